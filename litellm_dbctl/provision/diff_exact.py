"""`--exact-members`: the members of the spec's teams and organizations that the spec does not list
go, a pure function of the snapshot (its `rosters`), the spec's resolution and the other diffs' drafts.

A team membership leaves all three places LiteLLM keeps it, as /team/member_delete writes it: the
roster entry (members_with_roles; an entry with an email only stays when a listed member has that
email), the user's `teams` and its LiteLLM_TeamMembership row. An organization membership is its
LiteLLM_OrganizationMembership row. Only the spec's own teams and organizations are looked at, and a
new one has no members but the spec's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from litellm_dbctl.cache.invalidate import EntityRef
from litellm_dbctl.provision.diff_groups import TeamDraft
from litellm_dbctl.provision.diff_members import Members, UserDraft
from litellm_dbctl.provision.extras import Rosters
from litellm_dbctl.provision.plan import DELETE, USER_COLUMNS, Change, Delta, Item, Options, audit_row, roster
from litellm_dbctl.provision.resolve import Resolution
from litellm_dbctl.provision.snapshot import Snapshot

Row = Mapping[str, Any]
TEAM_ROWS = "provision/delete_memberships#team"  # assemble's names of provision/delete_memberships' variants
ORG_ROWS = "provision/delete_memberships#org"


@dataclass(frozen=True)
class Exact:
    """The removals, and the rosters and users' `teams` the team and user diffs then write."""

    delta: Delta
    rosters: Mapping[str, list[dict[str, Any]]]  # team_id -> its new roster: the memberships' with removals
    user_teams: Mapping[str, list[str]]  # spec users' new `teams`: the memberships' with removals


def listed(resolution: Resolution) -> dict[tuple[str, str], set[str]]:
    """(kind, group id) -> the user ids the spec lists as its members."""
    found: dict[tuple[str, str], set[str]] = {}
    for m in resolution.memberships:
        group_id = resolution.targets[m.kind, m.target]
        if group_id is not None:
            found.setdefault((m.kind, group_id), set()).add(resolution.user_ids[m.user])
    return found


def removals(snapshot: Snapshot, resolution: Resolution, users: Mapping[str, UserDraft],
             teams: Mapping[str, TeamDraft], members: Members, options: Options) -> Exact:
    rosters_ = snapshot.rosters or Rosters()
    wanted = listed(resolution)
    items: list[Item] = []
    audits: list[Row] = []
    refs: list[EntityRef] = []
    team_rows: list[Row] = []
    org_rows: list[Row] = []
    user_updates: list[Row] = []
    seen: dict[str, str] = {}
    new_rosters: dict[str, list[dict[str, Any]]] = {}
    user_teams: dict[str, list[str]] = dict(members.user_teams)
    others: dict[str, list[str]] = {}  # users outside the spec -> their new `teams`

    def label(user_id: str) -> str:
        draft = users.get(user_id)
        row = rosters_.users.get(user_id) or {}
        return str((draft.label if draft else None) or row.get("user_email") or user_id)

    for team_id in dict.fromkeys(resolution.team_ids):
        team = snapshot.teams.by_id.get(team_id)
        if team is None:  # created by this plan: only the spec's members
            continue
        keep = wanted.get(("team", team_id), set())
        emails = {(users[u].state.get("user_email") or "").lower() for u in keep if u in users} - {""}
        draft = teams.get(team_id)
        current: Sequence[dict[str, Any]] = members.rosters.get(team_id) or \
            (draft.state["members_with_roles"] if draft is not None else roster(team.get("members_with_roles")))
        kept = [e for e in current if e.get("user_id") in keep or
                (not e.get("user_id") and (e.get("user_email") or "").lower() in emails)]
        gone: dict[str, list[Change]] = {}
        for entry in current:
            if entry not in kept:
                who = entry.get("user_id") or entry.get("user_email") or "?"
                gone.setdefault(str(who), []).append(Change("role", entry.get("role"), None))
        if len(kept) != len(current):
            new_rosters[team_id] = kept
        for row in rosters_.team_members.get(team_id, ()):
            if row["user_id"] not in keep:
                team_rows.append({"user_id": row["user_id"], "team_id": team_id})
                gone.setdefault(row["user_id"], []).append(Change("LiteLLM_TeamMembership", "row", None))
                if options.audit:
                    audits.append(audit_row("deleted", "team_member", f"{team_id}:{row['user_id']}",
                                            {"budget_id": row.get("budget_id")}, None))
        for user_id, row in rosters_.users.items():
            if user_id in keep or team_id not in (row.get("teams") or []):
                continue
            if user_id in users:
                base = user_teams.get(user_id) or users[user_id].state["teams"]
                user_teams[user_id] = [t for t in base if t != team_id]
            else:
                base = others.get(user_id) or list(row.get("teams") or [])
                others[user_id] = [t for t in base if t != team_id]
            gone.setdefault(user_id, []).append(Change("user.teams", True, False))
        name = team.get("team_alias") or team_id
        for who, found in gone.items():
            items.append(Item("team_member", f"{who}@{team_id}", f"{label(who)} in {name}", DELETE, tuple(found)))
            refs.append(EntityRef("team_member", who, team_id))
    for org_id in dict.fromkeys(resolution.org_ids):
        keep = wanted.get(("org", org_id), set())
        org = snapshot.orgs.by_id.get(org_id) or {}
        for row in rosters_.org_members.get(org_id, ()):
            if row["user_id"] in keep:
                continue
            org_rows.append({"user_id": row["user_id"], "organization_id": org_id})
            items.append(Item("org_member", f"{row['user_id']}@{org_id}",
                              f"{label(row['user_id'])} in {org.get('organization_alias') or org_id}", DELETE,
                              (Change("role", row.get("user_role"), None),)))
            refs.extend((EntityRef("user", row["user_id"]), EntityRef("org", org_id)))
            if options.audit:
                audits.append(audit_row("deleted", "org_member", f"{org_id}:{row['user_id']}",
                                        {"user_role": row.get("user_role"), "budget_id": row.get("budget_id")}, None))
    for user_id, teams_ in others.items():
        row = rosters_.users[user_id]
        user_updates.append({"user_id": user_id, **{k: row.get(k) for k in USER_COLUMNS}, "teams": teams_})
        seen[user_id] = row["seen"]
        refs.append(EntityRef("user", user_id))
        if options.audit:
            audits.append(audit_row("updated", "user", user_id, {"teams": row.get("teams")}, {"teams": teams_}))
    delta = Delta(items, {TEAM_ROWS: team_rows, ORG_ROWS: org_rows, "user/update_many": user_updates,
                          "audit/copy_in": audits}, locks={"user": seen}, rosters=tuple(new_rosters), refs=refs)
    return Exact(delta, {**members.rosters, **new_rosters}, user_teams)
