"""`logs prune`: delete the spend logs of whole UTC days before a cutoff, beside a live proxy.

What goes is what LiteLLM's own retention job (`spend_log_cleanup.py`, `_clean_spend_log_tables`)
removes with the logs: the `LiteLLM_SpendLogs` rows and the `LiteLLM_SpendLogToolIndex` rows of the
same times (by their own start_time). Its other jobs (auto-router sessions, health checks, daily tag
rows) have retention settings of their own and are left to it.

The cutoff is a UTC midnight (`cutoff_for`): a prune deletes whole days, so each day it deletes can
be checked first and archived whole. Work goes oldest day first, in steps (`plan`): on a partitioned
table (LiteLLM's layout: `LiteLLM_SpendLogs_pYYYYMMDD` partitions by range on "startTime") a
partition whose whole range is before the cutoff is detached and dropped in one short transaction
(its disk comes back at once); every other day's rows are deleted in batches (`batches.walk`).

Before anything is deleted, the days' daily tables are checked against their logs (`daily check`'s
`drift.check`, with LiteLLM's retention horizon from LiteLLM_Config): after the prune no one can
rebuild them, so a day that does not match is refused (the whole run changes nothing) unless
`force`. A day is recorded in dbctl's own table `dbctl_logs_prune_days` before its first row goes
and cleared once it is gone: a run killed midway leaves the record, and the next run finishes that
day without checking it again (its logs no longer match, by the first run's doing).

`allow_day(conn, day)` is asked before each day is deleted (the hook `--archive-to` uses: archive the
day, verify it, then say yes); a day it refuses is skipped, with its whole partition.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import clock
from litellm_dbctl.db import database, sqlfiles
from litellm_dbctl.logs import batches
from litellm_dbctl.logs.batches import Pace, midnight

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

TOOL_INDEX_QUERY = "logs/tool_index_day_counts"
BOUND = re.compile(r"FROM \((?P<lower>[^)]*)\) TO \((?P<upper>[^)]*)\)")
DROPPED, DELETED, SKIPPED = "dropped", "deleted", "skipped"
WOULD_DROP, WOULD_DELETE = "would drop", "would delete"


# -- planning (pure) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    """One partition of a partitioned LiteLLM_SpendLogs: its range [lower, upper) (None: MINVALUE /
    MAXVALUE; both None and `default`: the DEFAULT partition) and bytes on disk."""

    name: str
    lower: datetime | None
    upper: datetime | None
    bytes: int = 0
    default: bool = False


def parse_bound(name: str, expression: str, size: int = 0) -> Partition:
    """A Partition from `pg_get_expr(relpartbound)`: "FOR VALUES FROM ('2026-06-01 00:00:00') TO
    ('2026-06-02 00:00:00')", MINVALUE/MAXVALUE ends, or DEFAULT. Anything else is a partition with
    no known range, which is never dropped."""
    match = BOUND.search(expression)
    if "DEFAULT" in expression.upper() or match is None:
        return Partition(name, None, None, size, default=True)
    return Partition(name, _bound_value(match["lower"]), _bound_value(match["upper"]), size)


def _bound_value(text: str) -> datetime | None:
    value = text.strip().strip("'")
    if value.upper() in ("MINVALUE", "MAXVALUE"):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class Step:
    """One piece of a prune, in order: the days of one droppable partition (`partition` set: detach
    and drop it), or one day whose rows are deleted in batches. `rows`/`tool_rows` as counted."""

    days: tuple[date, ...]
    rows: int
    tool_rows: int
    partition: str | None = None
    bytes: int = 0  # the partition's size on disk (0 for a row-delete step)

    @property
    def first(self) -> date:
        return self.days[0] if self.days else date.min


@dataclass(frozen=True)
class Plan:
    cutoff: datetime
    partitioned: bool
    steps: tuple[Step, ...]
    day_rows: Mapping[date, int] = field(default_factory=dict)
    day_tool_rows: Mapping[date, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.steps)

    @property
    def tool_rows(self) -> int:
        return sum(s.tool_rows for s in self.steps)

    @property
    def days(self) -> tuple[date, ...]:
        return tuple(d for s in self.steps for d in s.days)


def droppable(partition: Partition, cutoff: datetime) -> bool:
    """A partition whose whole range is before the cutoff (LiteLLM's `select_partitions_to_drop`)."""
    return not partition.default and partition.upper is not None and partition.upper <= cutoff


def assemble(cutoff: datetime, day_rows: Mapping[date, int], tool_rows: Mapping[date, int],
             partitions: Sequence[Partition] | None) -> Plan:
    """The steps of a prune, oldest first: each droppable partition (with the days in its range,
    empty or not), then one step per remaining day that has spend logs or tool-index rows."""
    days = sorted(d for d in set(day_rows) | set(tool_rows) if midnight(d) < cutoff)
    steps: list[Step] = []
    claimed: set[date] = set()
    for part in sorted((p for p in partitions or () if droppable(p, cutoff)),
                       key=lambda p: p.lower or datetime.min.replace(tzinfo=timezone.utc)):
        inside = tuple(d for d in days if (part.lower is None or midnight(d) >= part.lower)
                       and midnight(d) < (part.upper or cutoff))
        claimed.update(inside)
        steps.append(Step(inside, sum(day_rows.get(d, 0) for d in inside), sum(tool_rows.get(d, 0) for d in inside),
                          part.name, part.bytes))
    steps.extend(Step((d,), day_rows.get(d, 0), tool_rows.get(d, 0)) for d in days if d not in claimed)
    steps.sort(key=lambda s: (s.first, s.partition is None))
    return Plan(cutoff, partitions is not None, tuple(steps), dict(day_rows), dict(tool_rows))


# -- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayDone:
    """What happened to one UTC day: `dropped` with its partition, rows `deleted`, `skipped` (the
    allow_day hook said no), or in a dry run `would drop` / `would delete`."""

    day: date
    action: str
    rows: int
    tool_rows: int
    partition: str | None = None
    bytes: int = 0  # rows deleted: their estimated share of the table's bytes (dead tuples to vacuum)


@dataclass(frozen=True)
class PartitionDone:
    name: str
    action: str  # dropped | would drop | skipped
    rows: int
    bytes: int


@dataclass(frozen=True)
class Refused:
    """A day whose daily tables do not match its logs: pruning it would make that permanent."""

    day: date
    tables: tuple[str, ...]
    spend_delta: float


@dataclass(frozen=True)
class PruneResult:
    cutoff: datetime
    dry_run: bool
    partitioned: bool
    days: tuple[DayDone, ...] = ()
    partitions: tuple[PartitionDone, ...] = ()
    refused: tuple[Refused, ...] = ()
    resumed: tuple[date, ...] = ()  # days an earlier, interrupted run had begun (not checked again)
    vacuumed: bool = False
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(d.rows for d in self.days if d.action != SKIPPED)

    @property
    def tool_rows(self) -> int:
        return sum(d.tool_rows for d in self.days if d.action != SKIPPED)

    @property
    def bytes(self) -> int:
        return (sum(d.bytes for d in self.days if d.action in (DELETED, WOULD_DELETE))
                + sum(p.bytes for p in self.partitions if p.action != SKIPPED))

    @property
    def work(self) -> bool:
        """Something was (or in a dry run would be) removed."""
        return bool(self.rows or self.tool_rows or any(p.action != SKIPPED for p in self.partitions))


# -- the run -----------------------------------------------------------------------------------------


AllowDay = Callable[["psycopg.Connection", date], bool]
Progress = Callable[[int, int, date], None]


def read_plan(conn: psycopg.Connection, cutoff: datetime) -> Plan:
    """Count what goes before `cutoff`, per day, and list the partitions (on a partitioned table)."""
    naive = clock.utc_naive(cutoff)
    day_rows = {r["day"]: r["rows"] for r in sqlfiles.run(conn, "logs/day_counts", {"cutoff": naive})}
    tool_rows = ({r["day"]: r["rows"] for r in sqlfiles.run(conn, TOOL_INDEX_QUERY, {"cutoff": naive})}
                 if sqlfiles.supported(conn, TOOL_INDEX_QUERY) else {})
    partitions = None
    if sqlfiles.run(conn, "logs/is_partitioned"):
        partitions = [parse_bound(r["name"], r["bound"] or "", r["bytes"]) for r in sqlfiles.run(conn, "logs/partitions")]
    return assemble(cutoff, day_rows, tool_rows, partitions)


def check_days(conn: psycopg.Connection, days: Iterable[date], target: Target,
               now: datetime | None = None) -> list[Refused]:
    """The days whose daily tables do not match their logs (`daily check`, LiteLLM's retention horizon
    from LiteLLM_Config: days its own cleanup has cut are not held against a prune)."""
    from litellm_dbctl.daily import drift, retention
    from litellm_dbctl.db import release

    wanted = sorted(days)
    if not wanted:
        return []
    release.require_known(conn, target, "logs prune")  # LiteLLM's counting rules, per release
    horizon = retention.load(conn, None).horizon(now or clock.now())
    refused = []
    for day in wanted:
        result = drift.check(conn, day, day, horizon=horizon)
        drifting = tuple(d.table for d in result.days if d.drift)
        if drifting:
            refused.append(Refused(day, drifting, sum(d.spend_delta for d in result.days)))
    return refused


def prune(target: Target, cutoff: datetime, *, force: bool = False, dry_run: bool = False, pace: Pace = Pace(),
          lock_timeout: float = 30.0, allow_day: AllowDay | None = None, progress: Progress | None = None,
          vacuum: bool = False, now: datetime | None = None) -> PruneResult:
    """Prune whole UTC days before `cutoff` (module docstring). Holds the `logs` advisory lock for
    the run (LockBusy after `lock_timeout`). A dry run counts and checks, and changes nothing.
    Refused days (unless `force`) end the run before anything is deleted: `result.refused`."""
    command = "logs prune"
    started = time.monotonic()
    conn, wait = batches.connect(target, command=command, lock_timeout=lock_timeout)
    with conn, wait, database.advisory_lock(conn, database.family_key(batches.LOCK_FAMILY), timeout=lock_timeout,
                                            what=command):
        plan = read_plan(conn, cutoff)
        begun = _begun_days(conn)
        resumed = tuple(d for d in plan.days if d in begun)
        to_check = [d for s in plan.steps for d in s.days if plan.day_rows.get(d) and d not in begun]
        refused = [] if force else check_days(conn, to_check, target, now)
        base = PruneResult(cutoff, dry_run, plan.partitioned, refused=tuple(refused), resumed=resumed)
        per_row = _bytes_per_row(conn)
        if refused or dry_run:
            action = (lambda s: WOULD_DROP if s.partition else WOULD_DELETE) if dry_run else (lambda s: SKIPPED)
            return _finish(base, _untouched(plan, per_row, action), started)
        done = _execute(conn, wait, plan, force=force, pace=pace, allow_day=allow_day, progress=progress,
                        per_row=per_row)
        result = _finish(base, done, started)
        if vacuum:
            sqlfiles.run(conn, "logs/vacuum" if sqlfiles.supported(conn, "logs/vacuum") else "logs/vacuum_logs")
            result = replace(result, vacuumed=True, seconds=time.monotonic() - started)
        return result


def _finish(base: PruneResult, done: tuple[list[DayDone], list[PartitionDone]], started: float) -> PruneResult:
    return replace(base, days=tuple(done[0]), partitions=tuple(done[1]), seconds=time.monotonic() - started)


def _untouched(plan: Plan, per_row: float,
               action: Callable[[Step], str]) -> tuple[list[DayDone], list[PartitionDone]]:
    """The plan's days and partitions as `action` names them (a dry run's, or a refused run's)."""
    days = [DayDone(d, action(s), plan.day_rows.get(d, 0), plan.day_tool_rows.get(d, 0), s.partition,
                    0 if s.partition else round(plan.day_rows.get(d, 0) * per_row))
            for s in plan.steps for d in s.days]
    parts = [PartitionDone(s.partition, action(s), s.rows, s.bytes) for s in plan.steps if s.partition]
    return days, parts


def _bytes_per_row(conn: psycopg.Connection) -> float:
    weight = sqlfiles.run(conn, "logs/table_weight")
    return float(weight["bytes"]) / weight["rows"] if weight and weight["rows"] else 0.0


def _begun_days(conn: psycopg.Connection) -> set[date]:
    if not sqlfiles.run(conn, "logs/prune_days_exist"):
        return set()
    return {r["day"] for r in sqlfiles.run(conn, "logs/prune_days")}


def _execute(conn: psycopg.Connection, wait: database.LockWait, plan: Plan, *, force: bool, pace: Pace,
             allow_day: AllowDay | None, progress: Progress | None,
             per_row: float) -> tuple[list[DayDone], list[PartitionDone]]:
    """Run the plan's steps in order; returns what happened per day and per partition."""
    days: list[DayDone] = []
    parts: list[PartitionDone] = []
    total = plan.rows
    done_rows = 0
    throttle = batches.Throttle(pace)
    sqlfiles.run(conn, "logs/create_prune_days")
    tool_index = sqlfiles.supported(conn, "logs/delete_tool_index_batch")
    for step in plan.steps:
        if allow_day is not None and not all(allow_day(conn, d) for d in step.days):
            days.extend(DayDone(d, SKIPPED, plan.day_rows.get(d, 0), 0, step.partition) for d in step.days)
            if step.partition:
                parts.append(PartitionDone(step.partition, SKIPPED, step.rows, step.bytes))
            continue
        with conn.transaction():
            for day in step.days:
                sqlfiles.run(conn, "logs/mark_prune_day", {"day": day, "forced": force})
        if step.partition:
            _drop_partition(conn, wait, step.partition)
            parts.append(PartitionDone(step.partition, DROPPED, step.rows, step.bytes))
            done_rows += step.rows
        for day in step.days:
            deleted = 0
            if not step.partition:
                def counted(batch: batches.Batch, day: date = day) -> None:
                    nonlocal done_rows
                    done_rows += batch.affected
                    if progress:
                        progress(done_rows, total, day)

                deleted = batches.walk(conn, "logs/delete_batch", _day_range(day, plan.cutoff), pace=pace, wait=wait,
                                       what=f"logs prune {day}", throttle=throttle, on_batch=counted).affected
            tools = batches.walk(conn, "logs/delete_tool_index_batch", _day_range(day, plan.cutoff), pace=pace,
                                 wait=wait, what=f"logs prune {day} (tool index)",
                                 throttle=throttle).affected if tool_index else 0
            rows = plan.day_rows.get(day, 0) if step.partition else deleted
            days.append(DayDone(day, DROPPED if step.partition else DELETED, rows, tools, step.partition,
                                0 if step.partition else round(deleted * per_row)))
            with conn.transaction():
                sqlfiles.run(conn, "logs/unmark_prune_day", {"day": day})
            if progress:
                progress(done_rows, total, day)
    return days, parts


def _day_range(day: date, cutoff: datetime) -> dict[str, Any]:
    end = min(midnight(day) + timedelta(days=1), cutoff)
    return {"since": clock.utc_naive(midnight(day)), "until": clock.utc_naive(end)}


def _drop_partition(conn: psycopg.Connection, wait: database.LockWait, name: str) -> None:
    """Detach and drop one partition in one transaction (a kill leaves it attached and whole): both
    take the parent's ACCESS EXCLUSIVE lock for an instant, waited for in short attempts."""
    def attempt() -> None:
        with conn.transaction():
            sqlfiles.run(conn, "logs/detach_partition", identifiers={"partition": name})
            sqlfiles.run(conn, "logs/drop_partition", identifiers={"partition": name})

    database.retry(attempt, what=f"logs prune: drop partition {name}", wait=wait)
