"""`dbctl logs size`: how big LiteLLM_SpendLogs and the tables LiteLLM's cleanup prunes with it are, how
fast they grow, and how long until a given size.

Everything comes from the catalog by default (pg_class sizes, reltuples, the pg_stats histogram of
"startTime"), so it costs nothing on a 100 GB table; `exact` counts instead. Without statistics
(a table never analyzed) the month shares come from a block sample. Read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common.errors import SchemaTooOld
from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg

SPEND_LOGS = "LiteLLM_SpendLogs"
TOOL_INDEX = "LiteLLM_SpendLogToolIndex"
# What LiteLLM's cleanup job (spend_log_cleanup.py) prunes besides the spend logs; the auto-router
# tables exist from LiteLLM 1.8x on and are listed only when present.
PRUNED_TOO = (TOOL_INDEX, "LiteLLM_DailyTagSpend", "LiteLLM_HealthCheckTable", "LiteLLM_AutoRouterSession",
              "LiteLLM_AutoRouterUserSession", "LiteLLM_AutoRouterDailySpend")
TABLES = (SPEND_LOGS, *PRUNED_TOO)
GROWTH_DAYS = 30
SAMPLE_PAGES = 2000  # pages a block sample reads when the planner has no statistics
PAGE = 8192
NO_FREE_SPACE = ("the filesystem's free space is not visible from SQL: check it on the database server "
                 "(df on the data directory, or your provider's storage metrics)")


@dataclass(frozen=True)
class TableSize:
    table: str
    partitioned: bool
    partitions: int
    rows: float | None  # the planner's estimate (reltuples), or counted with exact; None: never analyzed
    rows_exact: bool
    heap_bytes: int
    toast_bytes: int
    index_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.heap_bytes + self.toast_bytes + self.index_bytes


@dataclass(frozen=True)
class Partition:
    name: str
    bounds: str
    rows: float | None
    total_bytes: int


@dataclass(frozen=True)
class Bucket:
    """Spend logs whose startTime falls in the month (or day) starting `start`."""

    start: date
    rows: float


@dataclass(frozen=True)
class SizeReport:
    tables: tuple[TableSize, ...]
    partitions: tuple[Partition, ...]  # of LiteLLM_SpendLogs when partitioned
    months: tuple[Bucket, ...]
    days: tuple[Bucket, ...]  # the last GROWTH_DAYS whole UTC days
    method: str  # statistics | sample | exact: where the month and day rows come from
    oldest: datetime | None
    newest: datetime | None
    rows_per_day: float | None  # over the whole days of the last GROWTH_DAYS that hold logs
    bytes_per_day: float | None  # rows_per_day times the bytes a spend log takes (with its tool-index rows)
    database: str
    database_bytes: int | None
    limit_bytes: int | None
    days_until_limit: float | None  # None: no limit given, or no growth
    notes: tuple[str, ...]

    def table(self, name: str) -> TableSize | None:
        return next((t for t in self.tables if t.table == name), None)


def report(conn: psycopg.Connection, *, exact: bool = False, limit_bytes: int | None = None,
           now: datetime | None = None) -> SizeReport:
    """The size report, read in one transaction (the caller's connection is read-only)."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    today = now.date()
    growth_since = datetime.combine(today - timedelta(days=GROWTH_DAYS), datetime.min.time())
    notes: list[str] = []
    with conn.transaction():
        tables = [_table(r) for r in sqlfiles.run(conn, "logs/size_tables", {"tables": list(TABLES)})]
        logs = next((t for t in tables if t.table == SPEND_LOGS), None)
        if logs is None:
            raise SchemaTooOld(f"no {SPEND_LOGS} table in this database's schema",
                               hint="run `dbctl migrate deploy`, or point --database-url at the proxy's database")
        partitions = tuple(Partition(r["partition"], r["bounds"], r["rows_estimate"], r["total_bytes"])
                           for r in sqlfiles.run(conn, "logs/size_partitions", {"table": SPEND_LOGS}))
        if exact:
            method = "exact"
            months = _buckets(sqlfiles.run(conn, "logs/size_exact", {"unit": "month", "since": datetime.min}))
            days = _buckets(sqlfiles.run(conn, "logs/size_exact", {"unit": "day", "since": growth_since}))
            tables = [_counted(conn, t, months) for t in tables]
        else:
            method, months, days = _estimated(conn, logs, growth_since)
            if method == "sample":
                notes.append(f"no planner statistics on {SPEND_LOGS} yet: rows per month from a block sample "
                             f"(run ANALYZE \"{SPEND_LOGS}\", or --exact)")
            if logs.rows is None:
                notes.append(f"{SPEND_LOGS} was never analyzed: its row count is the sample's")
        span = sqlfiles.run(conn, "logs/size_span")
        database = sqlfiles.run(conn, "logs/size_database")
    logs = next(t for t in tables if t.table == SPEND_LOGS)
    if logs.rows is None and months:
        tables = [_with_rows(t, sum(b.rows for b in months)) if t.table == SPEND_LOGS else t for t in tables]
        logs = next(t for t in tables if t.table == SPEND_LOGS)
    rows_per_day = _rows_per_day(days, span["oldest"], today)
    bytes_per_day = _bytes_per_day(rows_per_day, tables)
    if database["bytes"] is None:
        notes.append("pg_database_size is not visible to this role: the limit is compared with the spend-log tables")
    notes.append(NO_FREE_SPACE)
    used = database["bytes"] if database["bytes"] is not None else sum(t.total_bytes for t in tables)
    return SizeReport(tuple(tables), partitions, tuple(months), tuple(b for b in days if b.start < today), method,
                      span["oldest"], span["newest"], rows_per_day, bytes_per_day, database["name"], database["bytes"],
                      limit_bytes, days_until(used, limit_bytes, bytes_per_day), tuple(notes))


def days_until(used: int, limit_bytes: int | None, bytes_per_day: float | None) -> float | None:
    """Days until `used` bytes grow to `limit_bytes` at `bytes_per_day`: 0 when already there, None with
    no limit or no growth."""
    if limit_bytes is None:
        return None
    if used >= limit_bytes:
        return 0.0
    if not bytes_per_day or bytes_per_day <= 0:
        return None
    return (limit_bytes - used) / bytes_per_day


def _table(row: dict[str, Any]) -> TableSize:
    return TableSize(row["table_name"], row["partitioned"], row["partitions"], row["rows_estimate"], False,
                     row["heap_bytes"], row["toast_bytes"], row["index_bytes"])


def _with_rows(table: TableSize, rows: float) -> TableSize:
    return TableSize(table.table, table.partitioned, table.partitions, rows, table.rows_exact, table.heap_bytes,
                     table.toast_bytes, table.index_bytes)


def _counted(conn: psycopg.Connection, table: TableSize, months: Sequence[Bucket]) -> TableSize:
    if table.table == SPEND_LOGS:
        counted = TableSize(table.table, table.partitioned, table.partitions, sum(b.rows for b in months), True,
                            table.heap_bytes, table.toast_bytes, table.index_bytes)
        return counted
    if not sqlfiles.supported(conn, "logs/size_count"):
        return table
    rows = sqlfiles.run(conn, "logs/size_count", identifiers={"table": table.table})
    return TableSize(table.table, table.partitioned, table.partitions, float(rows), True, table.heap_bytes,
                     table.toast_bytes, table.index_bytes)


def _estimated(conn: psycopg.Connection, logs: TableSize, growth_since: datetime) -> tuple[str, list[Bucket], list[Bucket]]:
    """Months and days from the planner's statistics, or from a block sample when there are none."""
    covered = sqlfiles.run(conn, "logs/size_stats_coverage", {"table": SPEND_LOGS, "column": "startTime"})
    if covered:
        def estimate(unit: str, since: datetime) -> list[Bucket]:
            return _buckets(sqlfiles.run(conn, "logs/size_estimate", {"table": SPEND_LOGS, "column": "startTime",
                                                                     "unit": unit, "since": since}))
        return "statistics", estimate("month", datetime.min), estimate("day", growth_since)
    percent = sample_percent(logs.heap_bytes)

    def sample(unit: str, since: datetime) -> list[Bucket]:
        return _buckets(sqlfiles.run(conn, "logs/size_sample", {"unit": unit, "since": since, "percent": percent}))
    return "sample", sample("month", datetime.min), sample("day", growth_since)


def sample_percent(heap_bytes: int) -> float:
    """The TABLESAMPLE SYSTEM percentage that reads about SAMPLE_PAGES pages (all of a small table)."""
    pages = max(heap_bytes // PAGE, 1)
    return min(100.0, max(0.01, 100.0 * SAMPLE_PAGES / pages))


def _buckets(rows: Sequence[dict[str, Any]]) -> list[Bucket]:
    return [Bucket(r["bucket"].date(), float(r["rows"])) for r in rows if r["rows"]]


def _rows_per_day(days: Sequence[Bucket], oldest: datetime | None, today: date) -> float | None:
    """Average spend logs a day over the whole UTC days of the growth window since the first log."""
    if oldest is None:
        return None
    first = max(today - timedelta(days=GROWTH_DAYS), oldest.date())
    whole = (today - first).days
    if whole <= 0:
        return None
    return sum(b.rows for b in days if first <= b.start < today) / whole


def _bytes_per_day(rows_per_day: float | None, tables: Sequence[TableSize]) -> float | None:
    """rows_per_day times the bytes one spend log takes on disk with its tool-index rows (their
    current average): the growth LiteLLM's retention would have to take away."""
    logs = next(t for t in tables if t.table == SPEND_LOGS)
    if rows_per_day is None or not logs.rows:
        return None
    tool = next((t.total_bytes for t in tables if t.table == TOOL_INDEX), 0)
    return rows_per_day * (logs.total_bytes + tool) / logs.rows
