"""budget_limits windows: the extra budget windows a key or team may carry beside its own.

LiteLLM keeps them as a JSON list `budget_limits` of `{budget_duration, max_budget, reset_at}` on
the key or team, with a running total per window in LiteLLM_BudgetWindowSpend (litellm-database.md
§2.3). Its reset job moves each window whose `reset_at` has passed (§3.3): `reset_at` becomes the
next boundary of the window's duration (`durations.next_reset`, an ISO string as LiteLLM writes
it) and the window's spend row is rolled to start at that boundary minus the duration in seconds,
with spend 0 or, with rollover, the overage over the window's max_budget. Here the same, beside
live proxies: the JSON is written back only where it is still the value read, in key order, and a
spend row a proxy already rolled is left alone. Windows without a `reset_at` are sliding windows,
which LiteLLM never resets; a window with an unusable duration or `reset_at` is reported and left.

`reset_at` is read and written as LiteLLM's job reads and writes it, so a window resets at the same
instant whichever of the two moves it: written as the ISO text of the boundary in the proxy's
`timezone` (`2026-06-11T00:00:00+02:00`), read with that offset dropped, its clock time taken as
UTC (`datetime.fromisoformat(...).replace(tzinfo=None)` against `utcnow()`, 1.109.1 and 1.110.2
alike). On a proxy east of UTC a window therefore resets its offset later than the boundary, west
of UTC that much earlier (README: Where dbctl differs from LiteLLM).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from litellm_dbctl.budget.records import Change, Skip
from litellm_dbctl.common import clock, durations
from litellm_dbctl.common.durations import InvalidDuration, ResetPolicy
from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg

# entity, the rows carrying windows, the identifiers of budget/set_limit_windows
ENTITIES = (("key", "budget/limit_windows_keys", {"table": "LiteLLM_VerificationToken", "id": "token"}),
            ("team", "budget/limit_windows_teams", {"table": "LiteLLM_TeamTable", "id": "team_id"}))


@dataclass(frozen=True)
class Moved:
    """One window of one key or team that is due: where it was and where it goes."""

    entity: str
    id: str
    name: str | None
    duration: str
    max_budget: float | None
    old_reset: str
    new_reset: str  # as written: the boundary in the proxy's timezone, ISO text with its offset
    window_start: datetime  # of the new window: new_reset minus the duration in seconds


def apply(conn: psycopg.Connection, now: datetime, policy: ResetPolicy, *, rollover: bool,
          dry_run: bool) -> tuple[list[Change], list[Skip]]:
    """Move every due budget_limits window (a dry run only reads); report each as a reset."""
    if not sqlfiles.supported(conn, "budget/limit_windows_keys"):
        return [], []
    moved: list[Moved] = []
    skipped: list[Skip] = []
    written: set[tuple[str, str]] = set()
    for entity, query, identifiers in ENTITIES:
        params = {"now": clock.utc_naive(now)} if entity == "key" else {}  # keys: only unexpired ones
        rows = sqlfiles.run(conn, query, params)
        updates: list[tuple[Mapping[str, Any], list[Any]]] = []
        for row in rows:
            windows, due, problems = _due(entity, row, now, policy)
            skipped.extend(Skip(entity, row["id"], row["name"], problem) for problem in problems)
            if due:
                moved.extend(due)
                updates.append((row, windows))
        if updates and not dry_run:
            done = sqlfiles.run(conn, "budget/set_limit_windows", {
                "ids": [row["id"] for row, _ in updates],
                "old": [json.dumps(row["budget_limits"]) for row, _ in updates],
                "new": [json.dumps(windows) for _, windows in updates],
            }, identifiers=identifiers)
            written.update((entity, r["id"]) for r in done)
        elif dry_run:
            written.update((entity, row["id"]) for row, _ in updates)
    rolled = _roll(conn, [m for m in moved if (m.entity, m.id) in written], now, rollover=rollover,
                   dry_run=dry_run)
    changes = []
    for m in moved:
        if (m.entity, m.id) not in written:
            skipped.append(Skip(m.entity, m.id, m.name, "its budget_limits changed since they were read"))
            continue
        fields: dict[str, tuple[Any, Any]] = {f"budget_limits[{m.duration}].reset_at": (m.old_reset, m.new_reset)}
        spend = rolled.get((m.entity, m.id, m.duration))
        if spend is not None:
            fields[f"budget_limits[{m.duration}].spend"] = spend
        changes.append(Change(m.entity, m.id, m.name, "reset", fields))
    return changes, skipped


def _due(entity: str, row: Mapping[str, Any], now: datetime,
         policy: ResetPolicy) -> tuple[list[Any], list[Moved], list[str]]:
    """(the row's windows with due ones moved, the moves, problems with windows left alone)."""
    windows = [dict(w) if isinstance(w, dict) else w for w in row["budget_limits"]]
    moves: list[Moved] = []
    problems: list[str] = []
    for window in windows:
        if not isinstance(window, dict) or not window.get("reset_at"):
            continue  # a sliding window (no reset_at): LiteLLM never resets it
        duration = window.get("budget_duration")
        try:
            reset_at = proxy_instant(str(window["reset_at"]))
        except ValueError:
            problems.append(f"budget_limits window {duration!r}: reset_at {window['reset_at']!r} is not a time")
            continue
        if reset_at > now:
            continue
        try:
            following = durations.next_reset(str(duration), now, policy)
            seconds = durations.duration_seconds(str(duration), now)
        except InvalidDuration:
            problems.append(f"budget_limits window {duration!r} has no next reset (LiteLLM rejects it)")
            continue
        max_budget = window.get("max_budget")
        written = following.astimezone(policy.zone()).isoformat()
        moves.append(Moved(entity, row["id"], row["name"], str(duration),
                           float(max_budget) if isinstance(max_budget, (int, float)) else None,
                           str(window["reset_at"]), written, following - timedelta(seconds=seconds)))
        window["reset_at"] = written
    return windows, moves, problems


def proxy_instant(reset_at: str) -> datetime:
    """When LiteLLM's reset job finds a window's `reset_at` due: its clock time taken as UTC, the
    offset dropped (ValueError for what is not an ISO time)."""
    return clock.utc_aware(datetime.fromisoformat(reset_at.replace("Z", "+00:00")).replace(tzinfo=None))


def _roll(conn: psycopg.Connection, moved: list[Moved], now: datetime, *, rollover: bool,
          dry_run: bool) -> dict[tuple[str, str, str], tuple[float, float]]:
    """Roll the spend rows of the moved windows; (entity, id, duration) -> (old, new spend)."""
    if not moved or dry_run or not sqlfiles.supported(conn, "budget/roll_window_spend"):
        return {}
    rows = sqlfiles.run(conn, "budget/roll_window_spend", {
        "entity_types": [m.entity for m in moved], "entity_ids": [m.id for m in moved],
        "durations": [m.duration for m in moved], "starts": [clock.utc_naive(m.window_start) for m in moved],
        "max_budgets": [m.max_budget for m in moved], "rollover": rollover, "now": clock.utc_naive(now),
    })
    return {(r["entity_type"], r["entity_id"], r["window_duration"]): (r["old_spend"], r["new_spend"]) for r in rows}
