"""Window resets: keys, users and teams, then budget tiers and the rows their reset cascades to.

Per table the due rows are read, locked in key order (budget/due_*), and one plain UPDATE resets
that same selection (budget/reset_keys; budget/reset for users and teams) with the next
budget_reset_at computed once per distinct duration; the UPDATE's rowcount must equal the rows
locked, else PlanChanged (budget/sync.py explains why this order cannot deadlock a proxy). Budget
tiers are few: their due rows are locked and read, the tiers moved, and the rows linked to the
tiers that moved have the spend read per row subtracted, each only while it still holds the tier.
Then the budget_limits windows of keys and teams (budget/windows.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from litellm_dbctl.budget import windows
from litellm_dbctl.budget.records import Change, Outcome, ResetBatch, Skip, carry_over
from litellm_dbctl.common import clock, durations
from litellm_dbctl.common.durations import InvalidDuration, ResetPolicy
from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg

# entity, its due rows, the reset of that selection, the reset's identifiers
TABLES: tuple[tuple[str, str, str, Mapping[str, str] | None], ...] = (
    ("key", "budget/due_keys", "budget/reset_keys", None),
    ("user", "budget/due_users", "budget/reset", {"table": "LiteLLM_UserTable"}),
    ("team", "budget/due_teams", "budget/reset", {"table": "LiteLLM_TeamTable"}),
)


class PlanChanged(Exception):
    """A row became due between the plan and the apply (only a hand edit can do that): plan again."""


@dataclass
class Resets:
    """What every reset of one sync shares: the transaction, the moment, the rules, and each
    duration's next boundary once computed."""

    conn: psycopg.Connection
    now: datetime  # aware UTC
    policy: ResetPolicy
    rollover: bool
    default_end_user_budget: str | None
    read_only: bool  # only read the due rows of keys, users and teams (no locks, no reset)
    dry_run: bool
    db_now: datetime = field(init=False)  # `now` as the timestamp(3) columns compare it
    following: dict[str, datetime | None] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.db_now = clock.utc_naive(self.now)


def reset_windows(resets: Resets) -> Outcome:
    """Every due window: the tables, the tiers and their cascade, then budget_limits windows."""
    outcome = Outcome()
    for entity, due, reset, identifiers in TABLES:
        _reset_table(resets, outcome, entity, due, reset, identifiers)
    _reset_tiers(resets, outcome)
    changes, skipped = windows.apply(resets.conn, resets.now, resets.policy, rollover=resets.rollover,
                                     dry_run=resets.dry_run)
    outcome.changes.extend(changes)
    outcome.skipped.extend(skipped)
    return outcome


def _next_reset(resets: Resets, duration: str) -> datetime | None:
    """The next boundary for `duration` from now, once per distinct duration; None when unusable."""
    if duration not in resets.following:
        try:
            following = durations.next_reset(duration, resets.now, resets.policy)
        except InvalidDuration:
            following = None
        resets.following[duration] = following if following is not None and following > resets.now else None
    return resets.following[duration]


def _boundaries(resets: Resets, durations_: Iterable[str]) -> tuple[dict[str, datetime], set[str]]:
    """(each usable duration's next boundary, the durations that have none)."""
    boundaries: dict[str, datetime] = {}
    unusable: set[str] = set()
    for duration in durations_:
        following = _next_reset(resets, duration)
        if following is None:
            unusable.add(duration)
        else:
            boundaries[duration] = following
    return boundaries, unusable


def _plan(resets: Resets, outcome: Outcome, entity: str, due: str, *,
          lock: bool) -> tuple[list[Any], dict[str, datetime]]:
    """The due rows (named tuples, locked in key order when `lock`) whose duration has a next
    boundary, and each such duration's boundary; the others are reported skipped."""
    rows = sqlfiles.run(resets.conn, due, {"now": resets.db_now}, row_type=tuple, lock=lock)
    boundaries, unusable = _boundaries(resets, {row.budget_duration for row in rows})
    if unusable:
        outcome.skipped.extend(Skip(entity, row.id, row.name, f"budget_duration {row.budget_duration!r} has no "
                                    "next reset (LiteLLM rejects it); fix the duration")
                               for row in rows if row.budget_duration in unusable)
        rows = [row for row in rows if row.budget_duration not in unusable]
    return rows, boundaries


def _params(resets: Resets, boundaries: Mapping[str, datetime]) -> dict[str, Any]:
    return {"durations": list(boundaries),
            "next_reset_at": [clock.utc_naive(b) for b in boundaries.values()],
            "now": resets.db_now}


def _reset_table(resets: Resets, outcome: Outcome, entity: str, due: str, reset: str,
                identifiers: Mapping[str, str] | None) -> None:
    """Lock and read the due rows (a read-only run only reads them), then reset that selection
    with one UPDATE."""
    rows, boundaries = _plan(resets, outcome, entity, due, lock=not resets.read_only)
    if not rows:
        return
    if not resets.read_only:
        count = sqlfiles.run(resets.conn, reset, {**_params(resets, boundaries), "rollover": resets.rollover},
                             identifiers=identifiers)
        if count != len(rows):
            raise PlanChanged(f"{entity}s: {len(rows)} due rows locked, {count} reset")
    outcome.batches.append(ResetBatch(entity, rows, boundaries, resets.rollover))


def _reset_tiers(resets: Resets, outcome: Outcome) -> None:
    """Budget tiers: move each due tier's window, then reset the rows linked to the tiers that moved."""
    conn = resets.conn
    rows, boundaries = _plan(resets, outcome, "budget", "budget/due_budgets", lock=True)
    if not rows:
        return
    due = {row.id: row for row in rows if row.reset_us is not None}
    members = sqlfiles.run(conn, "budget/due_tier_members", {
        "tiers": sorted(due), "default_end_user_budget": resets.default_end_user_budget,
    }) if due else []
    moved = {r["id"] for r in sqlfiles.run(conn, "budget/reset_budgets", _params(resets, boundaries))}
    if moved != {row.id for row in rows}:
        raise PlanChanged(f"budget tiers: planned {len(rows)} resets, applied {len(moved)}")
    outcome.batches.append(ResetBatch("budget", rows, boundaries, resets.rollover))
    if not members:
        return
    decrements = [m["spend"] - carry_over(m["spend"], due[m["tier"]].max_budget, resets.rollover) for m in members]
    done = {(r["entity"], r["id"], r["team_id"]) for r in sqlfiles.run(conn, "budget/reset_tier_members", {
        "entities": [m["entity"] for m in members], "ids": [m["id"] for m in members],
        "team_ids": [m["team_id"] for m in members], "tiers": [m["tier"] for m in members],
        "budget_ids": [m["budget_id"] for m in members], "decrements": decrements,
        "reset_tiers": sorted(due),
    })}
    for member, decrement in zip(members, decrements):
        if (member["entity"], member["id"], member["team_id"]) in done:
            outcome.changes.append(Change(member["entity"], member["id"], member["name"], "cascade",
                                          {"spend": (member["spend"], member["spend"] - decrement)},
                                          team_id=member["team_id"], via=member["tier"]))
        else:
            outcome.skipped.append(Skip(member["entity"], member["id"], member["name"],
                                        f"left budget tier {member['tier']} since it was read"))
