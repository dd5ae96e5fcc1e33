"""The partitioned layout LiteLLM's partition manager expects, as pure functions: partition names,
their bounds, which to create, and the steps a conversion has left.

Facts (LiteLLM 1.109.1 `spend_logs_partition_manager.py`, runbook `db_scripts/partition_spend_logs.sql`):
`LiteLLM_SpendLogs` range-partitioned on "startTime" (timestamp(3), UTC), one partition per period
named `LiteLLM_SpendLogs_pYYYYMMDD` by its first day, the period a UTC day, an ISO week from Monday or
a calendar month (`SPEND_LOG_PARTITION_INTERVAL`, default day), bounds `FROM ('YYYY-MM-DD') TO
('YYYY-MM-DD')`, a DEFAULT partition `LiteLLM_SpendLogs_pdefault` that the manager never drops, and
the primary key ("request_id", "startTime"). The manager pre-creates the current period and 7 ahead
(`SPEND_LOG_PARTITION_PRECREATE_AHEAD`) and drops partitions whose upper bound has passed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

SPEND_LOGS = "LiteLLM_SpendLogs"
NEW_TABLE = "LiteLLM_SpendLogs_new"  # the partitioned table while rows are copied into it
OLD_TABLE = "LiteLLM_SpendLogs_old"  # the plain table once swapped out (dropped unless --keep-old)
DEFAULT_PARTITION = "LiteLLM_SpendLogs_pdefault"
INTERVALS = ("day", "week", "month")
DEFAULT_INTERVAL = "day"  # LiteLLM's SPEND_LOG_PARTITION_INTERVAL default
DEFAULT_PREMAKE = 7  # LiteLLM's SPEND_LOG_PARTITION_PRECREATE_AHEAD default
MAX_PREMAKE = 3660
MAX_PARTITIONS = 5000  # more than this for one conversion is a mistake (a 1970 startTime, say)

# phases of a conversion, in the state table dbctl_logs_partition
PREPARED = "prepared"  # the partitioned table, its partitions and indexes exist; no trigger yet
COPYING = "copying"  # the trigger mirrors every change; old rows are being copied in batches
COPIED = "copied"  # every old row is copied; the swap is next
SWAPPED = "swapped"  # LiteLLM_SpendLogs is the partitioned table; the old one awaits its drop

_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


def period_start(day: date, interval: str) -> date:
    """The first day of the period `day` falls in (LiteLLM's rule: weeks start on Monday)."""
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown interval {interval!r}")


def next_period_start(start: date, interval: str) -> date:
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(days=7)
    if interval == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    raise ValueError(f"unknown interval {interval!r}")


def partition_name(start: date) -> str:
    return f"{SPEND_LOGS}_p{start.strftime('%Y%m%d')}"


@dataclass(frozen=True, order=True)
class Partition:
    """One range partition: [lower, upper) in UTC days."""

    lower: date
    upper: date
    name: str

    def overlaps(self, other: Partition) -> bool:
        return self.lower < other.upper and other.lower < self.upper


def covering(first: date, last: date, interval: str, ahead: int) -> list[Partition]:
    """The partitions from the period holding `first` to the one holding `last`, then `ahead` more."""
    if last < first:
        last = first
    parts: list[Partition] = []
    start = period_start(first, interval)
    end = period_start(last, interval)
    extra = -1
    while extra < ahead:
        upper = next_period_start(start, interval)
        parts.append(Partition(start, upper, partition_name(start)))
        if start >= end:
            extra += 1
        start = upper
        if len(parts) > MAX_PARTITIONS:
            raise ValueError(f"more than {MAX_PARTITIONS} partitions from {first} to {last} by {interval}")
    return parts


def parse_bound(name: str, expression: str) -> Partition | None:
    """A partition from `pg_get_expr(relpartbound)` ("FOR VALUES FROM ('2026-06-01 00:00:00') TO
    (...)"); None for DEFAULT or a bound that is not two timestamps (MINVALUE, ...)."""
    match = _BOUND.search(expression or "")
    if match is None:
        return None
    try:
        lower, upper = (datetime.fromisoformat(match[i]) for i in (1, 2))
    except ValueError:
        return None
    # a bound inside a day (not one LiteLLM makes) still blocks the whole days it touches
    upper_day = upper.date() if upper.time() == datetime.min.time() else upper.date() + timedelta(days=1)
    return Partition(lower.date(), upper_day, name)


def to_create(wanted: Iterable[Partition], existing: Iterable[Partition]) -> tuple[list[Partition], list[Partition]]:
    """(the wanted partitions to create, those skipped because an existing one, under another name or
    of another interval, already covers part of their range). A wanted partition whose name exists
    is present, neither created nor skipped."""
    have = list(existing)
    names = {p.name for p in have}
    create: list[Partition] = []
    skipped: list[Partition] = []
    for part in wanted:
        if part.name in names:
            continue
        if any(part.overlaps(other) for other in have):
            skipped.append(part)
            continue
        create.append(part)
        have.append(part)
    return create, skipped


def guess_interval(existing: Sequence[Partition]) -> str | None:
    """The interval an existing layout was made with, from its most recent partition's width."""
    if not existing:
        return None
    last = max(existing)
    width = (last.upper - last.lower).days
    if width == 1:
        return "day"
    if width == 7 and last.lower.weekday() == 0:
        return "week"
    if last.lower.day == 1 and next_period_start(last.lower, "month") == last.upper:
        return "month"
    return None


@dataclass(frozen=True)
class Batch:
    """One copy batch: rows with "startTime" in [lower, upper); `upper` None: to the end."""

    lower: datetime
    upper: datetime | None


def remaining_steps(phase: str | None, *, partitioned: bool, old_exists: bool, keep_old: bool) -> list[str]:
    """What a run does from `phase` (None: nothing started), in order, as the dry run names them."""
    if partitioned:
        steps = []
        if phase == SWAPPED and old_exists and not keep_old:
            steps.append("drop")
        if phase is not None:
            steps.append("cleanup")
        return [*steps, "premake"]
    steps = {None: ["prepare", "trigger", "copy"], PREPARED: ["trigger", "copy"], COPYING: ["copy"],
             COPIED: []}.get(phase, ["prepare", "trigger", "copy"])
    steps = [*steps, "reconcile", "swap"]
    if not keep_old:
        steps.append("drop")
    return [*steps, "cleanup", "premake"]


STEP_TEXT = {
    "prepare": f"create {NEW_TABLE} partitioned by range on \"startTime\", its partitions, DEFAULT partition, "
               "primary key (request_id, startTime), the table's indexes and the request-log indexes",
    "trigger": f"install triggers on {SPEND_LOGS} that mirror every insert, update and delete into {NEW_TABLE}",
    "copy": f"copy the existing rows into {NEW_TABLE} in batches by \"startTime\", one short transaction each",
    "reconcile": "re-copy the rows updated or deleted while the copy ran",
    "swap": f"one short transaction (lock_timeout, retried): rename {SPEND_LOGS} to {OLD_TABLE} and "
            f"{NEW_TABLE} to {SPEND_LOGS}, with their key and index names; views re-pointed",
    "drop": f"drop {OLD_TABLE}",
    "cleanup": "drop dbctl's conversion state (dbctl_logs_partition*) and the mirror function",
    "premake": "create the current period's partition and the ones ahead (--premake)",
}
