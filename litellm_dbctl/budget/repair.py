"""Counter repair: each entity's spend in its current window, recomputed from LiteLLM_SpendLogs.

LiteLLM never recomputes the `spend` columns it enforces budgets on (litellm-database.md §2.4), so
a lost batch, a crash or a double reset leaves them wrong for good. Here, for keys, users, teams,
end users, organizations and tags, the window is LiteLLM's: it began at the boundary before
budget_reset_at on the duration's calendar grid under the sync's ResetPolicy (a `monthly` window
ending April 1 began March 1, not 30 days earlier), or, where budget_reset_at is off that grid (an
older LiteLLM set it to now + duration, or another timezone did), budget_reset_at minus the
duration's length; the budget tier's window for end users, organizations and tags; all time since
creation for entities without a duration. The drift is logged spend minus the counter, and the
correction is an increment, so a proxy's increments that land meanwhile survive. Tags are skipped
on a schema older than LiteLLM's tag table.

What is left alone, and said: entities used within the settle period (their counters run ahead of
their spend logs, which are written later), entities whose window starts before the oldest spend
log (the logs may have been pruned by retention), and windows that cannot be computed. A carried
overage (`--rollover`) counts as drift: repair assumes the window began at zero.

On LiteLLM 1.110's spend-log outbox the order is the other way round: the log is written first and
the proxy's worker adds it to the counters later. A log whose delivery is pending or parked is left
out of `logged` (in the drift statement itself: one snapshot), and how many is said, so a repair
never adds what the worker will add again.

With the proxies' Redis (`--redis-url`, `use_redis_transaction_buffer`), spend on its way is counted
too (spend/buffer.py `waiting`, budget/drift_buffered): increments waiting in
litellm_spend_update_buffer will still be added to the counter, and spend-log rows parked in
litellm_spend_logs_buffer will still be written, so a counter is right when it equals logged +
parked - waiting, whichever of the two the proxy writes first. The buffer is read before and after
the drift statements: an entity whose buffered spend changed in between (the lock holder popped and
wrote it meanwhile) is left alone. A batch the lock holder has popped and not yet written is in
neither read; it belongs to entities used moments ago, which the settle period leaves alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from litellm_dbctl.budget.records import Change, Skip
from litellm_dbctl.common import clock, durations
from litellm_dbctl.common.durations import InvalidDuration, ResetPolicy
from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.spend.buffer import Waiting

KINDS = (("key", "budget/drift_keys"), ("user", "budget/drift_users"), ("team", "budget/drift_teams"),
         ("end_user", "budget/drift_end_users"), ("org", "budget/drift_orgs"), ("tag", "budget/drift_tags"))
MAX_WINDOW_SECONDS = 10**10  # ~317 years: longer durations (LiteLLM accepts 10**20h) mean "all time"
RECENT_LOOKBACK = timedelta(days=1)  # how far back a still-running request's spend log may start


def apply(conn: psycopg.Connection, now: datetime, policy: ResetPolicy, *, settle: timedelta, min_drift: float,
          default_end_user_budget: str | None,
          buffered: Callable[[], Waiting] | None = None) -> tuple[list[Change], list[Skip], list[str]]:
    """Plan the corrections (one statement per entity type), then apply them (one statement).
    `settle`: entities used this recently are left alone; `min_drift`: smaller drifts are ignored;
    `buffered` reads the spend waiting in the proxies' Redis (called before and after the drift)."""
    warnings = [f"counter repair leaves entities used in the last {_minutes(settle)} alone "
                "(--settle): their spend logs may not be written yet"]
    logs_start = sqlfiles.run(conn, "budget/spend_logs_start")
    if logs_start is None:
        warnings.append("LiteLLM_SpendLogs is empty: no counter repaired (are spend logs disabled?)")
        return [], [], warnings
    outbox = bool(sqlfiles.run(conn, "accounting/outbox_exists"))
    if outbox:
        left_out = sqlfiles.run(conn, "budget/unapplied_logs")
        if left_out["pending"] or left_out["parked"]:
            warnings.append(f"left out {left_out['pending'] + left_out['parked']} spend log(s) whose spend-log "
                            f"delivery the proxy has not applied yet ({left_out['pending']} pending, "
                            f"{left_out['parked']} parked): the worker adds them to the counters")
    deliveries = {"deliveries": "LiteLLM_SpendLogDelivery" if outbox else "no_deliveries"}
    cutoff = clock.utc_naive(now) - settle
    params = {**_windows(conn, now, policy), "cutoff": cutoff,
              "recent_from": cutoff - RECENT_LOOKBACK, "min_drift": min_drift}
    first = buffered() if buffered is not None else None
    if first is not None and (first.increments or first.parked):
        warnings.append(f"counted spend still on its way in the proxies' Redis: {len(first.increments)} buffered "
                        f"increment(s) not applied yet, {len(first.parked)} parked spend log(s) not written yet")
    found: list[tuple[str, Mapping[str, Any]]] = []
    for entity, query in KINDS:
        if not sqlfiles.supported(conn, query):
            continue
        extra = {"default_end_user_budget": default_end_user_budget} if entity == "end_user" else {}
        found += [(entity, row) for row in sqlfiles.run(conn, query, {**params, **extra, **_buffer_params(first, entity)},
                                                        identifiers=deliveries)]
    moved = _moved(first, buffered()) if buffered is not None and first is not None else set()
    planned: list[tuple[str, Mapping[str, Any]]] = []
    skipped: list[Skip] = []
    for entity, row in found:
        reason = _why_not(row, logs_start, settle)
        if reason is None and (entity, row["id"]) in moved:
            reason = "its spend in the proxies' Redis buffer was being written while repair read it"
        if reason:
            skipped.append(Skip(entity, row["id"], row["name"], reason))
        else:
            planned.append((entity, row))
    if not planned:
        return [], skipped, warnings
    done: set[tuple[str, str]] = set()
    for query, batch in (("budget/repair_spend", [p for p in planned if p[0] != "tag"]),
                         ("budget/repair_tag_spend", [p for p in planned if p[0] == "tag"])):
        if batch:
            done.update((r["entity"], r["id"]) for r in sqlfiles.run(conn, query, {
                "entities": [entity for entity, _ in batch], "ids": [row["id"] for _, row in batch],
                "deltas": [row["logged"] - row["spend"] for _, row in batch],
                "guards": [row["guard"] for _, row in batch],
            }))
    changes = []
    for entity, row in planned:
        if (entity, row["id"]) not in done:
            skipped.append(Skip(entity, row["id"], row["name"], "its window was reset since the drift was read"))
            continue
        start = clock.utc_aware(row["window_start"]).isoformat()
        changes.append(Change(entity, row["id"], row["name"], "repair", {"spend": (row["spend"], row["logged"])},
                              via=start))
    return changes, skipped, warnings


def _buffer_params(waiting: Waiting | None, entity: str) -> dict[str, list[Any]]:
    """budget/drift_buffered's arrays for one entity type (empty without a buffer read)."""
    params: dict[str, list[Any]] = {"waiting_ids": [], "waiting_spend": [], "parked_ids": [], "parked_spend": [],
                                    "parked_starts": [], "parked_requests": []}
    if waiting is None:
        return params
    for (kind, entity_id), amount in waiting.increments.items():
        if kind == entity:
            params["waiting_ids"].append(entity_id)
            params["waiting_spend"].append(amount)
    for log in waiting.parked:
        for kind, entity_id in log.entities:
            if kind == entity:
                params["parked_ids"].append(entity_id)
                params["parked_spend"].append(log.spend)
                params["parked_starts"].append(log.start)
                params["parked_requests"].append(log.request_id)
    return params


def _moved(first: Waiting, second: Waiting) -> set[tuple[str, str]]:
    """Entities whose buffered spend differs between two reads of the buffers."""
    def totals(waiting: Waiting) -> dict[tuple[str, str, str], float]:
        out = {(kind, entity_id, "increment"): amount for (kind, entity_id), amount in waiting.increments.items()}
        for log in waiting.parked:
            for kind, entity_id in log.entities:
                out[(kind, entity_id, "log")] = out.get((kind, entity_id, "log"), 0.0) + log.spend
        return out

    before, after = totals(first), totals(second)
    return {(kind, entity_id) for kind, entity_id, _ in before.keys() | after.keys()
            if abs(before.get((kind, entity_id, _), 0.0) - after.get((kind, entity_id, _), 0.0)) > 1e-12}


def _why_not(row: Mapping[str, Any], logs_start: datetime, settle: timedelta) -> str | None:
    if row["active"]:
        return f"used in the last {_minutes(settle)}: its latest spend logs may not be written yet"
    if not row["windowed"]:
        return ("its budget_duration gives no current window (no budget_reset_at yet, an unusable duration, "
                "or a window that changed while repair read them)")
    if row["window_start"] is None:
        return "no window start (no budget tier with a window, or no creation time): nothing to compare"
    if row["window_start"] < logs_start:
        return (f"its window starts {row['window_start']:%Y-%m-%d %H:%M}, before the oldest spend log "
                f"({logs_start:%Y-%m-%d %H:%M}): older logs may have been pruned")
    return None


def _windows(conn: psycopg.Connection, now: datetime, policy: ResetPolicy) -> dict[str, list[Any]]:
    """The drift statements' `windows`: each (duration, budget_reset_at) pair in use with its window
    start, computed once per pair (the walk costs more than a row); unusable durations are left out."""
    lengths: dict[str, int | None] = {}
    windows: dict[str, list[Any]] = {"durations": [], "reset_ats": [], "window_starts": []}
    for row in sqlfiles.run(conn, "budget/durations_in_use"):
        duration, reset_at = row["duration"], row["reset_at"]
        if duration not in lengths:
            lengths[duration] = _length(duration, now)
        seconds = lengths[duration]
        if seconds is not None:
            windows["durations"].append(duration)
            windows["reset_ats"].append(reset_at)
            windows["window_starts"].append(_window_start(duration, reset_at, seconds, policy))
    return windows


def _length(duration: str, now: datetime) -> int | None:
    """LiteLLM's duration_in_seconds, or None for a duration without a positive one."""
    try:
        seconds = durations.duration_seconds(duration, now)
    except InvalidDuration:
        return None
    return seconds if seconds > 0 else None


def _window_start(duration: str, reset_at: datetime, seconds: int, policy: ResetPolicy) -> datetime:
    """Naive UTC, as the drift statements compare it. Off the grid, `reset_at` minus the length: the
    window an older LiteLLM set (now + duration). Longer than MAX_WINDOW_SECONDS: all time."""
    if seconds <= MAX_WINDOW_SECONDS:
        try:
            boundary = durations.previous_boundary(duration, reset_at, policy)
        except InvalidDuration:  # a duration next_reset cannot align (`2mo`): by its length
            boundary = None
        if boundary is not None:
            return clock.utc_naive(boundary)
    try:
        return reset_at - timedelta(seconds=min(seconds, MAX_WINDOW_SECONDS))
    except OverflowError:  # before year 1: all time
        return datetime.min


def _minutes(settle: timedelta) -> str:
    seconds = settle.total_seconds()
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
