"""Removing a member: undo a membership everywhere LiteLLM keeps it, as one small plan applied
like any other (row locks, the check of the compared fields, re-plan on a change, audit rows, cache invalidation,
recorded in its transaction as owed until Redis has it: cache/owed.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from litellm_dbctl.audit import trail
from litellm_dbctl.cache.invalidate import EntityRef
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.provision import lookup
from litellm_dbctl.provision.apply import (
    Outcome,
    apply_plan,
    transact,
)
from litellm_dbctl.provision.plan import (
    DELETE,
    MEMBERSHIPS,
    TEAM_COLUMNS,
    UNCHANGED,
    USER_COLUMNS,
    Change,
    Item,
    LockSet,
    Options,
    Plan,
    Step,
    lock_set,
    roster,
)

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target


def remove_member(target: Target, kind: str, group: str, user: str, *, options: Options = Options(),
                  dry_run: bool = False, lock_timeout: float = 30.0) -> Outcome:
    """Undo a membership everywhere LiteLLM keeps it: for a team the roster entry
    (members_with_roles), UserTable.teams and the LiteLLM_TeamMembership row; for an organization the
    LiteLLM_OrganizationMembership row; and the member's own budget row, if nothing else points at it
    (else every add/remove cycle would leave one behind). Removing a non-member changes nothing."""
    def build(conn: psycopg.Connection, now: datetime) -> tuple[Plan, int]:
        user_row = lookup.find_user(conn, user)
        group_row = lookup.find_group(conn, kind, group)
        plan = (team_removal if kind == "team" else org_removal)(conn, group_row, user_row, options, now)
        return plan, apply_plan(conn, plan, options) if plan.changed else 0

    return transact(target, f"{kind} remove-member", build, options=options, dry_run=dry_run,
                    lock_timeout=lock_timeout)


def team_removal(conn: psycopg.Connection, team: dict[str, Any], user: dict[str, Any], options: Options,
                  now: datetime) -> Plan:
    team_id, user_id = team["team_id"], user["user_id"]
    email = (user.get("user_email") or "").lower()
    entries = roster(team.get("members_with_roles"))
    kept = [e for e in entries if not (e.get("user_id") == user_id or
                                      (not e.get("user_id") and email and (e.get("user_email") or "").lower() == email))]
    teams = [t for t in (user.get("teams") or []) if t != team_id]
    membership: list[dict[str, Any]] = sqlfiles.run(conn, "team/memberships_for_plan",
                                                    {"team_ids": [team_id], "user_ids": [user_id]})
    changes: list[Change] = []
    steps: list[Step] = []
    locks: list[LockSet] = []
    audit_rows: list[dict[str, Any]] = []
    if len(kept) != len(entries):
        state = {"team_id": team_id, **{k: team.get(k) for k in TEAM_COLUMNS}, "members_with_roles": kept}
        steps.append(Step("team/update_many", (state,)))
        locks.append(lock_set("team", {team_id: team["seen"]}))
        changes.append(Change("members_with_roles entries", len(entries) - len(kept), 0))
        audit_rows.append(trail.row("updated", "LiteLLM_TeamTable", team_id,
                                    {"team_alias": team.get("team_alias"), "members_with_roles": entries},
                                    {"team_alias": team.get("team_alias"), "members_with_roles": kept}))
    if len(teams) != len(user.get("teams") or []):
        state = {"user_id": user_id, **{k: user.get(k) for k in USER_COLUMNS}, "teams": teams}
        steps.append(Step("user/update_many", (state,)))
        locks.append(lock_set("user", {user_id: user["seen"]}))
        changes.append(Change("user.teams", True, False))
        audit_rows.append(trail.row("updated", "LiteLLM_UserTable", user_id, {"teams": user.get("teams")}, {"teams": teams}))
    if membership:
        steps.append(Step("provision/delete_memberships", ({"user_id": user_id, "team_id": team_id},),
                          MEMBERSHIPS["team"]))
        changes.append(Change("LiteLLM_TeamMembership", "row", None))
        budget = _own_budget(conn, membership[0]["budget_id"],
                             (team.get("metadata") or {}).get("team_member_budget_id"))
        if budget is not None:
            steps.append(Step("budget_row/delete_unheld", ({"budget_id": budget["budget_id"]},)))
            changes.append(Change("LiteLLM_BudgetTable", budget, None))
            audit_rows.append(trail.row("deleted", "LiteLLM_TeamMembership", f"{team_id}:{user_id}",
                                        {"budget_id": budget["budget_id"], "max_budget_in_team": budget["max_budget"]},
                                        None))
    if options.audit and audit_rows:
        steps.append(Step("audit/copy_in", tuple(audit_rows)))
    label = f"{user.get('user_email') or user_id} in {team.get('team_alias') or team_id}"
    item = Item("team_member", f"{user_id}@{team_id}", label, DELETE if changes else UNCHANGED, tuple(changes))
    refs = (EntityRef.team(team_id, team.get("team_alias")), EntityRef("user", user_id),
            EntityRef("team_member", user_id, team_id)) if changes else ()
    return Plan((item,), tuple(steps), tuple(locks), (team_id,) if changes else (), refs, (), now)


def org_removal(conn: psycopg.Connection, org: dict[str, Any], user: dict[str, Any], options: Options,
                 now: datetime) -> Plan:
    org_id, user_id = org["organization_id"], user["user_id"]
    rows: list[dict[str, Any]] = sqlfiles.run(conn, "org/memberships_for_plan", {"org_ids": [org_id], "user_ids": [user_id]})
    label = f"{user.get('user_email') or user_id} in {org.get('organization_alias') or org_id}"
    if not rows:
        return Plan((Item("org_member", f"{user_id}@{org_id}", label, UNCHANGED),), now=now)
    steps = [Step("provision/delete_memberships", ({"user_id": user_id, "organization_id": org_id},),
                  MEMBERSHIPS["org"])]
    changes = [Change("role", rows[0]["user_role"], None)]
    before = {"user_role": rows[0]["user_role"]}
    budget = _own_budget(conn, rows[0]["budget_id"], org.get("budget_id"))
    if budget is not None:  # max_budget_in_organization, set by the proxy's /organization/member_update
        steps.append(Step("budget_row/delete_unheld", ({"budget_id": budget["budget_id"]},)))
        changes.append(Change("LiteLLM_BudgetTable", budget, None))
        before |= {"budget_id": budget["budget_id"], "max_budget_in_organization": budget["max_budget"]}
    if options.audit:
        steps.append(Step("audit/copy_in", (trail.row("deleted", "LiteLLM_OrganizationMembership",
                                                          f"{org_id}:{user_id}", before, None),)))
    item = Item("org_member", f"{user_id}@{org_id}", label, DELETE, tuple(changes))
    return Plan((item,), tuple(steps), now=now, refs=(EntityRef("user", user_id), EntityRef("org", org_id)))


def _own_budget(conn: psycopg.Connection, budget_id: str | None, shared: str | None) -> dict[str, Any] | None:
    """The budget row a removed membership points at, if it is the membership's own: not `shared` (the
    team's default member budget, the organization's budget) and named by no other row, so it goes
    with the membership. A schema older than a table that may name it keeps it, as before."""
    if not budget_id or budget_id == shared or not sqlfiles.supported(conn, "budget_row/delete_unheld"):
        return None
    rows: list[dict[str, Any]] = sqlfiles.run(conn, "budget_row/read_for_removal", {"ids": [budget_id]})
    return rows[0] if rows else None
