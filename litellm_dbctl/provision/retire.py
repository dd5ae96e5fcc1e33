"""Retiring people and groups: what `user offboard` and the deletes (`provision/delete.py`) share.

One transaction under the provisioning advisory lock (as every provisioning write), with the plan it
executes (`--dry-run` runs the same statements and rolls back), audit rows, and the proxies' cached
copies owed in that transaction and dropped after its COMMIT (`provision.apply.owe`, `told`).

A membership is undone everywhere LiteLLM keeps it (litellm-database.md §4.4, §4.5), by the same plans
`team|org remove-member` applies (`provision.remove`), one per team or organization, joined into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from litellm_dbctl.audit import trail
from litellm_dbctl.cache.invalidate import EntityRef
from litellm_dbctl.common.clock import utc_naive
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.provision import lookup, remove
from litellm_dbctl.provision.apply import (
    Outcome,
    apply_plan,
    transact,
)
from litellm_dbctl.provision.plan import (
    LOCKS,
    MEMBERSHIPS,
    UNCHANGED,
    UPDATE,
    USER_COLUMNS,
    Change,
    Item,
    LockSet,
    Plan,
    Step,
    lock_set,
)

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target
    from litellm_dbctl.provision.plan import Options

def joined(plans: Sequence[Plan], now: datetime) -> Plan:
    """Several plans as one: items and steps in order, each lock query once (rows sorted, in the
    order apply takes them), LiteLLM's roster locks sorted, each cached object once."""
    names = {query: name for name, query in LOCKS.items()}
    expected: dict[str, dict[str, str]] = {}
    for plan in plans:
        for lock in plan.locks:
            expected.setdefault(names[lock.query], {}).update(lock.expected)
    order = list(LOCKS)
    return Plan(tuple(i for p in plans for i in p.items), tuple(s for p in plans for s in p.steps),
                tuple(lock_set(name, expected[name]) for name in sorted(expected, key=order.index)),
                tuple(sorted({t for p in plans for t in p.roster_locks})),
                tuple(dict.fromkeys(r for p in plans for r in p.refs)), (), now)


def memberships(conn: psycopg.Connection, user: dict[str, Any], options: Options, now: datetime) -> Plan:
    """The plan undoing every team and organization membership of `user` (a `lookup.find_user` row)
    everywhere LiteLLM keeps it: per team, as `team remove-member` (roster, UserTable.teams,
    LiteLLM_TeamMembership, the member's own budget row); per organization, as `org remove-member`;
    and team ids the user row names (or membership rows) of teams that no longer exist."""
    user_id = user["user_id"]
    plans: list[Plan] = []
    current = dict(user)
    gone: list[str] = []
    for found in sqlfiles.run(conn, "user/memberships_for_removal", {"user_id": user_id}):
        kind, group_id = found["kind"], found["group_id"]
        if kind == "team" and not found["exists"]:
            gone.append(group_id)
            continue
        rows = sqlfiles.run(conn, "team/read_for_plan" if kind == "team" else "org/read_for_plan",
                            {"ids": [group_id], "aliases": []})
        if not rows:  # deleted since the read above: a team's rows are a missing team's
            if kind == "team":
                gone.append(group_id)
            continue
        if kind == "team":
            plans.append(remove.team_removal(conn, rows[0], current, options, now))
            current["teams"] = [t for t in current.get("teams") or [] if t != group_id]
        else:
            plans.append(remove.org_removal(conn, rows[0], current, options, now))
    if gone:
        plans.append(_missing_teams(conn, current, gone, options, now))
    return joined(plans, now)


def _missing_teams(conn: psycopg.Connection, user: dict[str, Any], gone: list[str], options: Options,
                   now: datetime) -> Plan:
    """What is left of memberships in teams that no longer exist: their ids in UserTable.teams and
    their LiteLLM_TeamMembership rows (no foreign key removed them with the team)."""
    user_id = user["user_id"]
    before = list(user.get("teams") or [])
    teams = [t for t in before if t not in gone]
    rows = sqlfiles.run(conn, "team/memberships_for_plan", {"team_ids": gone, "user_ids": [user_id]})
    steps: list[Step] = []
    changes: list[Change] = []
    locks: tuple[LockSet, ...] = ()
    audit_rows: list[dict[str, Any]] = []
    if teams != before:
        state = {"user_id": user_id, **{k: user.get(k) for k in USER_COLUMNS}, "teams": teams}
        steps.append(Step("user/update_many", (state,)))
        locks = (lock_set("user", {user_id: user["seen"]}),)
        changes.append(Change("user.teams", before, teams))
        audit_rows.append(trail.row("updated", "LiteLLM_UserTable", user_id, {"teams": before}, {"teams": teams}))
    if rows:
        steps.append(Step("provision/delete_memberships",
                          tuple({"user_id": user_id, "team_id": r["team_id"]} for r in rows), MEMBERSHIPS["team"]))
        changes.append(Change("LiteLLM_TeamMembership rows of deleted teams", len(rows), 0))
    if options.audit and audit_rows:
        steps.append(Step("audit/copy_in", tuple(audit_rows)))
    label = f"{user.get('user_email') or user_id} in deleted team(s) {', '.join(gone)}"
    item = Item("team_member", f"{user_id}@{','.join(gone)}", label, "delete" if changes else UNCHANGED,
                tuple(changes))
    refs = (EntityRef("user", user_id),) if changes else ()
    return Plan((item,), tuple(steps), locks, (), refs, (), now)


def offboard(target: Target, ref: str, *, options: Options, dry_run: bool = False,
             lock_timeout: float = 30.0) -> Outcome:
    """Take a user out of everything without deleting it: every team and organization membership
    undone everywhere LiteLLM keeps it (`memberships`), every key of the user blocked as /key/block
    does (with a `blocked` audit row each). The user row, its keys and all spend history stay."""

    def build(conn: psycopg.Connection, now: datetime) -> tuple[Plan, int]:
        user = lookup.find_user(conn, ref)
        plan = memberships(conn, user, options, now)
        written = apply_plan(conn, plan, options) if plan.changed else 0
        blocked, count = block_keys(conn, user["user_id"], options, now)
        return joined([plan, blocked], now), written + count

    return transact(target, "user offboard", build, options=options, dry_run=dry_run, lock_timeout=lock_timeout)


def block_keys(conn: psycopg.Connection, user_id: str, options: Options, now: datetime) -> tuple[Plan, int]:
    """/key/block on every key of the user not blocked yet; the plan of it and the rows written."""
    moment = utc_naive(now)
    todo = [k for k in sqlfiles.run(conn, "user/keys", {"user_id": user_id}) if not k["blocked"]]
    if not todo:
        return Plan((), now=now), 0
    tokens = [k["token"] for k in todo]
    count = int(sqlfiles.run(conn, "user/block_keys", {"tokens": tokens, "actor": options.actor, "now": moment}))
    if options.audit:
        trail.write(conn, [trail.row("blocked", "LiteLLM_VerificationToken", t, {"blocked": False}, {"blocked": True})
                           for t in tokens], actor=options.actor, now=moment)
    items = tuple(Item("key", k["token"], k["key_alias"] or k["key_name"] or k["token"][:12], UPDATE,
                       (Change("blocked", bool(k["blocked"]), True),)) for k in todo)
    return Plan(items, refs=tuple(EntityRef("key", t) for t in tokens), now=now), count
