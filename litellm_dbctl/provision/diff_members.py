"""The diffs of users and memberships: pure functions of the snapshot, the spec's resolution and
the drafts of its users and teams.

A user is created with the proxy's defaults for what the spec leaves out (/user/new's, or
/team/member_add's for a user only named as a member), or updated field by field. A team
membership lives in three places, as LiteLLM writes it: the team's roster (members_with_roles),
the user's `teams` and a LiteLLM_TeamMembership row (with a budget row for the member's own
budget); an organization membership is one LiteLLM_OrganizationMembership row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from litellm_dbctl.cache.invalidate import EntityRef
from litellm_dbctl.common import uuids
from litellm_dbctl.provision.diff_groups import TeamDraft, budget_update
from litellm_dbctl.provision.plan import (
    BUDGET_COLUMNS,
    BUDGET_SET,
    CREATE,
    SEP,
    UNCHANGED,
    UPDATE,
    USER_COLUMNS,
    Change,
    Delta,
    Item,
    Options,
    audit_row,
    budget_fields,
    changes,
    keep_mark,
    marked,
    roster,
    same,
)
from litellm_dbctl.provision.proxy_settings import ProxySettings
from litellm_dbctl.provision.resolve import Resolution
from litellm_dbctl.provision.snapshot import Snapshot
from litellm_dbctl.provision.spec_fields import DEFAULT_ROLE
from litellm_dbctl.provision.spec_records import Membership, Spec

Row = Mapping[str, Any]
USER_FIELDSET = frozenset(USER_COLUMNS)
BUDGET_FIELDSET = frozenset(BUDGET_SET)
USER_NULLS = dict.fromkeys(USER_COLUMNS)  # a new user's columns before its fields: copied, never changed


class UserDraft(NamedTuple):
    """A spec user as planned before its memberships: the row to insert, or the merged row to update."""

    state: dict[str, Any]
    new: bool
    changes: list[Change]
    label: str


def user_drafts(snapshot: Snapshot, spec: Spec, resolution: Resolution, settings: ProxySettings, options: Options,
                now: datetime) -> dict[str, UserDraft]:
    """Each spec user's draft by user_id."""
    drafts: dict[str, UserDraft] = {}
    by_id, new_user, policy = snapshot.users.by_id, settings.new_user, options.policy
    members = {m.user for m in resolution.memberships}
    for index, (user, user_id) in enumerate(zip(spec.users, resolution.user_ids)):
        if user.implied and index not in members:  # named only for a team that exists (add_proxy_admin)
            continue
        row = by_id.get(user_id)
        fields = user.fields if row is not None else new_user(user.fields, implied=user.implied)
        desired = {k: v for k, v in fields.items() if k in USER_FIELDSET}
        if not BUDGET_FIELDSET.isdisjoint(fields):
            desired |= budget_fields(fields, row, now, policy)
        label = user.user_email or (row or {}).get("user_email") or user_id
        if row is None:
            if user.implied:  # added as a member: LiteLLM's new-member defaults
                desired.setdefault("user_role", "internal_user")
            state = {"user_id": user_id, **USER_NULLS, "models": [], "metadata": {}, "teams": [], **desired}
            state["metadata"] = marked(state["metadata"], options)
            drafts[user_id] = UserDraft(state, True, [Change(k, None, v) for k, v in desired.items()], label)
            continue
        if user.implied:
            desired.pop("user_email", None)  # a member entry does not rewrite a known user's email
        keep_mark(desired, row)
        merged = {"user_id": user_id, **{k: row.get(k) for k in USER_COLUMNS}}
        merged["teams"] = list(row.get("teams") or [])
        found = changes(row, desired)
        for change in found:
            merged[change.field] = change.new
        drafts[user_id] = UserDraft(merged, False, found, label)
    return drafts


@dataclass(frozen=True)
class Members:
    """The memberships' part of the plan, and what they change in teams and users."""

    delta: Delta
    rosters: Mapping[str, list[dict[str, Any]]]  # team_id -> its new roster, for the rosters that change
    user_teams: Mapping[str, list[str]]  # user_id -> its new `teams`, for the users whose list changes


def memberships(snapshot: Snapshot, resolution: Resolution, users: Mapping[str, UserDraft],
                teams: Mapping[str, TeamDraft], options: Options) -> Members:
    tm_insert: list[Row] = []
    tm_update: list[Row] = []
    tm_seen: dict[str, str] = {}
    om_insert: list[Row] = []
    om_update: list[Row] = []
    om_seen: dict[str, str] = {}
    budget_inserts: list[Row] = []
    budget_updates: dict[str, Row] = {}
    budget_seen: dict[str, str] = {}
    items: list[Item] = []
    refs: list[EntityRef] = []
    audits: list[Row] = []
    rosters: dict[str, list[Any]] = {}  # team_id -> working copy of its roster (None: an entry merged away)
    team_rows: dict[str, Row] = {}  # team_id -> the team as planned (draft) or read
    roster_index: dict[str, dict[str, list[int]]] = {}
    touched: set[str] = set()
    user_teams: dict[str, list[str]] = {}
    user_ids, targets, tm_rows = resolution.user_ids, resolution.targets, snapshot.team_members
    wanted: dict[str, set[str]] = {}  # team_id -> what its memberships look up: the roster index holds only those
    for m in resolution.memberships:
        team_id = targets["team", m.target] if m.kind == "team" else None
        if team_id is not None:
            keys = wanted.setdefault(team_id, set())
            keys.add(user_ids[m.user])
            email = users[user_ids[m.user]].state.get("user_email")
            if email:
                keys.add("@" + email.lower())

    def member_budget(max_budget: float) -> str:
        """A new LiteLLM_BudgetTable row for one member's budget in a team (max_budget_in_team)."""
        budget_id = uuids.v4()
        budget_inserts.append({"budget_id": budget_id, **dict.fromkeys(BUDGET_COLUMNS), "max_budget": max_budget})
        return budget_id

    for m in resolution.memberships:
        user_id = user_ids[m.user]
        user = users[user_id]
        if m.kind == "org":
            _org_member(m, user_id, user.label, snapshot, resolution, options, om_insert, om_update, om_seen,
                        items, audits)
            continue
        team_id = targets["team", m.target]
        if team_id is None:
            continue
        roster_: list[Any] | None = rosters.get(team_id)
        if roster_ is None:
            draft = teams.get(team_id)
            team_rows[team_id] = draft.state if draft is not None else snapshot.teams.by_id[team_id]
            entries: list[Any] = list(draft.state["members_with_roles"]) if draft is not None \
                else roster(team_rows[team_id].get("members_with_roles"))
            roster_ = rosters[team_id] = entries
        team = team_rows[team_id]
        index = roster_index.get(team_id)
        if index is None:
            index = roster_index[team_id] = {}
            looked_up = wanted[team_id]
            for position, entry in enumerate(roster_):
                for key in (entry.get("user_id"), "@" + (entry.get("user_email") or "").lower()):
                    if key in looked_up:
                        index.setdefault(key, []).append(position)
        email = user.state.get("user_email")
        positions: Any = ()
        if index:  # a roster with entries (a new team's is empty: nothing to look up)
            by_id = index.get(user_id)
            by_email = index.get("@" + email.lower()) if email else None
            if by_id or by_email:
                positions = sorted({*(by_id or ()), *(p for p in by_email or () if not roster_[p].get("user_id"))})
        found: list[Change] = []
        present: list[str] = []
        if positions:
            entry = roster_[positions[0]]
            old_role = entry.get("role")
            role = m.role or old_role or DEFAULT_ROLE["team"]
            if old_role != role:
                found.append(Change("role", old_role, role))
            fixed = {"user_id": user_id, "user_email": entry.get("user_email") or email, "role": role}
            if fixed != entry or len(positions) > 1:
                if len(positions) > 1:
                    found.append(Change("members_with_roles entries", len(positions), 1))
                for position in positions[1:]:
                    roster_[position] = None
                roster_[positions[0]] = fixed
                touched.add(team_id)
            present.append("roster")
        else:
            role = m.role or DEFAULT_ROLE["team"]
            # not indexed: the memberships are distinct per (team, user), so no later one looks it up
            roster_.append({"user_id": user_id, "user_email": email, "role": role})
            touched.add(team_id)
            found.append(Change("role", None, role))
        current = user_teams.get(user_id)
        if current is None:
            current = user.state["teams"]
        if team_id in current:
            present.append("teams")
        else:
            user_teams[user_id] = [*current, team_id]
            if not user.new:
                found.append(Change("user.teams", False, True))
        row = tm_rows.get((user_id, team_id)) if tm_rows else None
        default_budget = (team.get("metadata") or {}).get("team_member_budget_id")
        if row is not None:
            present.append("row")
            if m.max_budget is not None:
                own = row["budget_id"] and row["budget_id"] != default_budget
                if own and not same("max_budget", row["max_budget"], m.max_budget):
                    budget_updates[row["budget_id"]] = budget_update(row["budget_id"], row, {"max_budget": m.max_budget})
                    budget_seen[row["budget_id"]] = row["budget_seen"]
                    found.append(Change("max_budget_in_team", row["max_budget"], m.max_budget))
                elif not own:  # a member budget of its own, never the team's shared default
                    tm_update.append({"user_id": user_id, "team_id": team_id, "budget_id": member_budget(m.max_budget)})
                    tm_seen[user_id + SEP + team_id] = row["seen"]
                    found.append(Change("max_budget_in_team", row["max_budget"], m.max_budget))
        else:
            budget_id = default_budget
            if m.max_budget is not None:
                budget_id = member_budget(m.max_budget)
                found.append(Change("max_budget_in_team", None, m.max_budget))
            tm_insert.append({"user_id": user_id, "team_id": team_id, "budget_id": budget_id})
            if present:
                found.append(Change("LiteLLM_TeamMembership", None, "row"))
        action = CREATE if not present else (UPDATE if found else UNCHANGED)
        label = f"{user.label} in {team.get('team_alias') or team_id}"
        items.append(Item("team_member", f"{user_id}@{team_id}", label, action, tuple(found)))
        if action != UNCHANGED:
            refs.append(EntityRef("team_member", user_id, team_id))
        budget_changes = [c for c in found if c.field == "max_budget_in_team"] if m.max_budget is not None else None
        if budget_changes and options.audit:  # the roster audit row (LiteLLM's shape) does not carry member budgets
            audits.append(audit_row("updated" if present else "created", "team_member", f"{team_id}:{user_id}",
                                    {c.field: c.old for c in budget_changes} if present else None,
                                    {c.field: c.new for c in budget_changes}))
    delta = Delta(items, {"budget_row/copy_in": budget_inserts, "team/copy_memberships": tm_insert,
                          "team/update_memberships": tm_update, "org/insert_memberships": om_insert,
                          "org/update_memberships": om_update, "audit/copy_in": audits}, budget_updates,
                  {"budget": budget_seen, "team_member": tm_seen, "org_member": om_seen},
                  tuple(touched), refs)
    changed = {team_id: [e for e in entries if e is not None] for team_id, entries in rosters.items()
               if team_id in touched}
    return Members(delta, changed, user_teams)


def _org_member(m: Membership, user_id: str, user_label: str, snapshot: Snapshot, resolution: Resolution,
                options: Options, inserts: list[Row], updates: list[Row], seen: dict[str, str], items: list[Item],
                audits: list[Row]) -> None:
    org_id = resolution.targets["org", m.target]
    if org_id is None:
        return
    row = snapshot.org_members.get((user_id, org_id))
    label = f"{user_label} in {m.target}"
    if row is None:
        role = m.role or DEFAULT_ROLE["org"]
        inserts.append({"user_id": user_id, "organization_id": org_id, "user_role": role})
        items.append(Item("org_member", f"{user_id}@{org_id}", label, CREATE, (Change("role", None, role),)))
        if options.audit:
            audits.append(audit_row("created", "org_member", f"{org_id}:{user_id}", None,
                                    {"organization_id": org_id, "user_id": user_id, "user_role": role}))
    elif m.role is not None and row["user_role"] != m.role:
        updates.append({"user_id": user_id, "organization_id": org_id, "user_role": m.role})
        seen[user_id + SEP + org_id] = row["seen"]
        items.append(Item("org_member", f"{user_id}@{org_id}", label, UPDATE,
                          (Change("role", row["user_role"], m.role),)))
        if options.audit:
            audits.append(audit_row("updated", "org_member", f"{org_id}:{user_id}", {"user_role": row["user_role"]},
                                    {"user_role": m.role}))
    else:
        items.append(Item("org_member", f"{user_id}@{org_id}", label, UNCHANGED))


def user_delta(snapshot: Snapshot, drafts: Mapping[str, UserDraft], user_teams: Mapping[str, list[str]],
               options: Options) -> Delta:
    """The spec's users, with the `teams` the memberships gave them."""
    items: list[Item] = []
    inserts: list[Row] = []
    updates: list[Row] = []
    seen: dict[str, str] = {}
    audits: list[Row] = []
    refs: list[EntityRef] = []
    for user_id, draft in drafts.items():
        teams = user_teams.get(user_id)
        state = draft.state
        if teams is not None:  # the draft is done with: its row takes its teams in place, not copied
            state["teams"] = teams
        found = tuple(draft.changes)
        if draft.new:
            inserts.append(state)
            items.append(Item("user", user_id, draft.label, CREATE, found))
            if options.audit:
                audits.append(audit_row("created", "user", user_id, None, state))
            continue
        row = snapshot.users.by_id[user_id]
        teams_changed = teams is not None and list(row.get("teams") or []) != teams
        if found or teams_changed:
            updates.append(state)
            seen[user_id] = row["seen"]
            refs.append(EntityRef("user", user_id))
            if options.audit:
                before = {c.field: c.old for c in found}
                after = {c.field: c.new for c in found}
                if teams_changed:
                    before["teams"], after["teams"] = row.get("teams"), state["teams"]
                audits.append(audit_row("updated", "user", user_id, before, after))
        items.append(Item("user", user_id, draft.label, UPDATE if found else UNCHANGED, found))
    return Delta(items, {"user/copy_in": inserts, "user/update_many": updates, "audit/copy_in": audits},
                 locks={"user": seen}, refs=refs)
