"""The diffs of organizations and teams: pure functions of the snapshot, the spec, its resolution
and the proxy's settings.

An organization is created with its LiteLLM_BudgetTable row, or updated where its fields or its
budget differ. A team is created with the proxy's default_team_params for what the spec leaves
out (and its default member budget row), or updated field by field. Teams are planned in two
steps: `team_drafts` before the memberships (which add roster entries), `team_delta` after them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from litellm_dbctl.cache.invalidate import EntityRef
from litellm_dbctl.common import uuids
from litellm_dbctl.provision.plan import (
    BUDGET_COLUMNS,
    CREATE,
    ORG_COLUMNS,
    TEAM_COLUMNS,
    UNCHANGED,
    UPDATE,
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
)
from litellm_dbctl.provision.proxy_settings import ProxySettings
from litellm_dbctl.provision.resolve import Resolution
from litellm_dbctl.provision.snapshot import Snapshot
from litellm_dbctl.provision.spec_records import Spec

Row = Mapping[str, Any]
MEMBER_BUDGET_MAP = {"team_member_budget": "max_budget", "team_member_budget_duration": "budget_duration",
                     "team_member_tpm_limit": "tpm_limit", "team_member_rpm_limit": "rpm_limit"}
MEMBER_BUDGET_FIELD = {column: name for name, column in MEMBER_BUDGET_MAP.items()}


def budget_update(budget_id: str, current: Row, desired: Row) -> dict[str, Any]:
    """A budget row's new state: its current columns with the desired ones over them."""
    return {"budget_id": budget_id, **{k: current.get(k) for k in BUDGET_COLUMNS}, **desired}


def orgs(snapshot: Snapshot, spec: Spec, resolution: Resolution, options: Options, now: datetime) -> Delta:
    inserts: list[Row] = []
    updates: list[Row] = []
    seen: dict[str, str] = {}
    budget_inserts: list[Row] = []
    budget_updates: dict[str, Row] = {}
    budget_seen: dict[str, str] = {}
    items: list[Item] = []
    audits: list[Row] = []
    refs: list[EntityRef] = []
    for org, org_id in zip(spec.organizations, resolution.org_ids):
        row = snapshot.orgs.by_id.get(org_id)
        fields = dict(org.fields)
        budget = budget_fields(fields, row, now, options.policy)
        own = {k: fields[k] for k in ORG_COLUMNS if k in fields}
        label = org.organization_alias or (row or {}).get("organization_alias") or org_id
        if row is None:
            budget_id = uuids.v4()
            budget_inserts.append({"budget_id": budget_id, **{k: budget.get(k) for k in BUDGET_COLUMNS}})
            new = {"organization_id": org_id, "organization_alias": org.organization_alias, "budget_id": budget_id,
                   "models": own.get("models") or [], "metadata": marked(own.get("metadata"), options)}
            inserts.append(new)
            items.append(Item("organization", org_id, label, CREATE,
                              tuple(Change(k, None, v) for k, v in {**own, **budget}.items())))
            if options.audit:
                audits.append(audit_row("created", "organization", org_id, None, {**new, **budget}))
            continue
        keep_mark(own, row)
        own_changes = changes(row, own)
        budget_changes = changes(row, budget)
        if budget_changes and row.get("budget_id"):
            budget_updates[row["budget_id"]] = budget_update(row["budget_id"], row, budget)
            budget_seen[row["budget_id"]] = row["budget_seen"]
        if own_changes or budget_changes:  # LiteLLM's /organization/update stamps the org row for either
            updates.append({"organization_id": org_id, **{k: row.get(k) for k in ORG_COLUMNS}, **own})
            seen[org_id] = row["seen"]
        all_changes = tuple(own_changes + budget_changes)
        items.append(Item("organization", org_id, label, UPDATE if all_changes else UNCHANGED, all_changes))
        if all_changes:
            if options.audit:
                audits.append(audit_row("updated", "organization", org_id, {c.field: c.old for c in all_changes},
                                        {c.field: c.new for c in all_changes}))
            refs.append(EntityRef("org", org_id))
    return Delta(items, {"budget_row/copy_in": budget_inserts, "org/insert_many": inserts, "org/update_many": updates,
                         "audit/copy_in": audits}, budget_updates,
                 {"budget": budget_seen, "organization": seen}, refs=refs)


class TeamDraft(NamedTuple):
    """A spec team as planned before its memberships: the row to insert, or the merged row to update."""

    state: dict[str, Any]
    new: bool
    changes: tuple[Change, ...]


def team_drafts(snapshot: Snapshot, spec: Spec, resolution: Resolution, settings: ProxySettings, options: Options,
                now: datetime) -> tuple[dict[str, TeamDraft], Delta]:
    """Each spec team's draft by team_id, and the budget rows of default member budgets."""
    drafts: dict[str, TeamDraft] = {}
    budget_inserts: list[Row] = []
    budget_updates: dict[str, Row] = {}
    budget_seen: dict[str, str] = {}
    for team, team_id in zip(spec.teams, resolution.team_ids):
        row = snapshot.teams.by_id.get(team_id)
        fields = dict(team.fields) if row is not None else settings.new_team(team.fields)
        if fields.get("organization_id"):
            fields["organization_id"] = resolution.orgs.find(fields["organization_id"])
        desired = {k: v for k, v in fields.items() if k in TEAM_COLUMNS} | \
            budget_fields(fields, row, now, options.policy)
        member_budget = {MEMBER_BUDGET_MAP[k]: v for k, v in team.member_budget.items()}
        if row is None:
            metadata = marked(desired.get("metadata"), options)
            if member_budget:
                budget_id = uuids.v4()
                wanted = budget_fields(member_budget, None, now, options.policy)
                budget_inserts.append({"budget_id": budget_id, **{k: wanted.get(k) for k in BUDGET_COLUMNS}})
                metadata["team_member_budget_id"] = budget_id
            new = {"team_id": team_id, **dict.fromkeys(TEAM_COLUMNS), "members_with_roles": [],
                   "models": [], "blocked": False, "team_member_permissions": [], **desired, "metadata": metadata}
            drafts[team_id] = TeamDraft(new, True, tuple(Change(k, None, v)
                                                         for k, v in {**desired, **team.member_budget}.items()))
            continue
        link = (row.get("metadata") or {}).get("team_member_budget_id")
        if "metadata" in desired and link:  # a metadata rewrite keeps the member budget link
            desired["metadata"] = {**(desired["metadata"] or {}), "team_member_budget_id": link}
        keep_mark(desired, row)
        merged = current_state(row)
        found = changes(row, desired)
        for change in found:
            merged[change.field] = change.new
        if member_budget:
            current = {column: row.get("member_" + column) for column in BUDGET_COLUMNS}
            if row.get("member_budget_id"):
                wanted = budget_fields(member_budget, current, now, options.policy)
                member_changes = changes(current, wanted)
                if member_changes:
                    budget_updates[row["member_budget_id"]] = budget_update(row["member_budget_id"], current, wanted)
                    budget_seen[row["member_budget_id"]] = row["member_budget_seen"]
                    found += [Change(MEMBER_BUDGET_FIELD[c.field], c.old, c.new) for c in member_changes
                              if c.field in MEMBER_BUDGET_FIELD]
            else:
                budget_id = uuids.v4()
                wanted = budget_fields(member_budget, None, now, options.policy)
                budget_inserts.append({"budget_id": budget_id, **{k: wanted.get(k) for k in BUDGET_COLUMNS}})
                merged["metadata"] = {**merged["metadata"], "team_member_budget_id": budget_id}
                found += [Change(k, None, v) for k, v in team.member_budget.items()]
        drafts[team_id] = TeamDraft(merged, False, tuple(found))
    return drafts, Delta(writes={"budget_row/copy_in": budget_inserts}, budget_updates=budget_updates,
                         locks={"budget": budget_seen})


def current_state(row: Row) -> dict[str, Any]:
    """A team's row as an update writes it back: its columns as they are, roster and metadata copied."""
    state = {"team_id": row["team_id"], **{k: row.get(k) for k in TEAM_COLUMNS}}
    state["members_with_roles"] = roster(row.get("members_with_roles"))
    state["metadata"] = dict(row.get("metadata") or {})
    return state


def team_delta(snapshot: Snapshot, drafts: Mapping[str, TeamDraft], rosters: Mapping[str, Sequence[Row]],
               options: Options) -> Delta:
    """The spec's teams, and the database's teams whose rosters the memberships change (`rosters`:
    team_id -> new roster, in the order the memberships reached them)."""
    items: list[Item] = []
    inserts: list[Row] = []
    updates: list[Row] = []
    seen: dict[str, str] = {}
    audits: list[Row] = []
    refs: list[EntityRef] = []
    others = [team_id for team_id in rosters if team_id not in drafts]
    for team_id in [*drafts, *others]:
        draft = drafts.get(team_id)
        state = draft.state if draft is not None else current_state(snapshot.teams.by_id[team_id])
        roster_changed = team_id in rosters
        if roster_changed:
            state = {**state, "members_with_roles": list(rosters[team_id])}
        found = draft.changes if draft is not None else ()
        label = state.get("team_alias") or team_id
        if draft is not None and draft.new:
            inserts.append(state)
            items.append(Item("team", team_id, label, CREATE, found))
            if options.audit:
                audits.append(audit_row("created", "team", team_id, None, state))
            continue
        row = snapshot.teams.by_id[team_id]
        if found or roster_changed:
            updates.append(state)
            seen[team_id] = row["seen"]
            refs.append(EntityRef.team(team_id, row.get("team_alias"), state.get("team_alias")))
            if options.audit:
                before = {c.field: c.old for c in found}
                after = {c.field: c.new for c in found}
                if roster_changed:  # LiteLLM's member_add audit shape: alias and the whole roster
                    before |= {"team_alias": row.get("team_alias"), "members_with_roles": row.get("members_with_roles")}
                    after |= {"team_alias": state.get("team_alias"), "members_with_roles": state["members_with_roles"]}
                audits.append(audit_row("updated", "team", team_id, before, after))
        if draft is not None:
            items.append(Item("team", team_id, label, UPDATE if found else UNCHANGED, found))
    return Delta(items, {"team/copy_in": inserts, "team/update_many": updates, "audit/copy_in": audits},
                 locks={"team": seen}, refs=refs)
