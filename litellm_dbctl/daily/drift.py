"""LiteLLM's six daily spend tables checked against LiteLLM_SpendLogs.

LiteLLM rolls every request up into per-day rows per user, team, organization, end user, agent and
tag (litellm-database.md §1). The rollups drift from the logs: batches dropped on database errors,
in-memory queues lost in a crash, hand edits, NULL-key rows from old versions. `check` recomputes
the six tables from the logs by LiteLLM's rules, in one set-based statement per UTC day
(`daily/diff`: one pass over that day's logs; every request adds to its keys, every stored row
subtracts, one GROUP BY leaves the delta per key), and reports the keys that differ; `reconcile`
writes the difference back. Days LiteLLM's cleanup job has pruned (daily.retention) are not
recomputed: they are reported as `pruned`.

On LiteLLM 1.110's spend-log outbox (`LiteLLM_SpendLogDelivery`) a request's log is written at once
and its daily increment later, by the proxy's worker: a request whose delivery is pending or parked
is left out of the recomputation (in the same statement, so one snapshot decides), and counted
(`Unapplied`), so a repair never adds what the worker will add again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from litellm_dbctl.daily.retention import NO_HORIZON, Horizon
from litellm_dbctl.daily.tables import DEFAULT_WORK_MEM, TABLE_NAMES, days_between, validate_work_mem
from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg

OUTBOX_TABLE = "LiteLLM_SpendLogDelivery"
SPEND_TOLERANCE = 1e-9  # relative: float sums added in another order differ in the last bits


@dataclass(frozen=True)
class Counters:
    """The columns of a daily row that the spend logs determine."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    compression_saved_tokens: int = 0
    api_requests: int = 0
    successful_requests: int = 0
    failed_requests: int = 0
    total_response_time_ms: int = 0
    timed_requests: int = 0
    spend: float = 0.0

    def minus(self, other: Counters) -> Counters:
        return Counters(**{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)})

    def differing(self, other: Counters, *, scale: float | None = None) -> tuple[str, ...]:
        """Names of the columns that differ; spend within SPEND_TOLERANCE of `scale` (default: this
        spend) counts as equal."""
        names = [f.name for f in fields(self) if f.name != "spend" and getattr(self, f.name) != getattr(other, f.name)]
        if abs(self.spend - other.spend) > SPEND_TOLERANCE * max(1.0, abs(self.spend if scale is None else scale)):
            names.append("spend")
        return tuple(names)

    def negated(self) -> Counters:
        return ZERO.minus(self)


COUNTER_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Counters))
ZERO = Counters()

MISSING, EXTRA, DIFFER, LEGACY = "missing", "extra", "differ", "legacy"
STATUSES = (MISSING, EXTRA, DIFFER, LEGACY)
PRUNED = "pruned"


@dataclass(frozen=True)
class KeyDrift:
    """One key of one daily table on one day whose stored rows do not match the logs.

    status: `missing` (logs give a row, none is stored), `extra` (stored, no log gives it: an
    orphan), `differ` (counters differ) or `legacy` (counters match, but the key is spread over rows
    with NULL key columns that a reconcile merges into one). `delta` is recomputed minus stored.
    """

    table: str
    date: str
    entity_id: str
    api_key: str
    model: str
    custom_llm_provider: str
    mcp_namespaced_tool_name: str
    endpoint: str
    status: str
    requests: int  # spend logs that feed this key
    stored_rows: int
    legacy_rows: int
    spend_recomputed: float
    delta: Counters
    model_group: str | None = None  # the first writer's (reconcile only), for an inserted row
    writer_request_id: str | None = None

    @property
    def spend_stored(self) -> float:
        return self.spend_recomputed - self.delta.spend

    @property
    def differences(self) -> tuple[str, ...]:
        """The columns that differ (all of them for a missing or extra key)."""
        return self.delta.differing(ZERO, scale=self.spend_recomputed)

    def key(self) -> tuple[str, ...]:
        """LiteLLM's conflict key, in the order its writer sorts rows before an upsert."""
        return (self.entity_id, self.date, self.api_key, self.model, self.custom_llm_provider,
                self.mcp_namespaced_tool_name, self.endpoint)


@dataclass(frozen=True)
class DayTable:
    """One daily table on one UTC day: how many keys drift, by kind, and the spend they account for;
    or `pruned` by LiteLLM's retention, and then not checked."""

    date: str
    table: str
    missing: int = 0
    extra: int = 0
    differ: int = 0
    legacy: int = 0
    spend_delta: float = 0.0
    pruned: bool = False

    @property
    def drift(self) -> bool:
        return bool(self.missing or self.extra or self.differ or self.legacy)

    @property
    def state(self) -> str:
        return PRUNED if self.pruned else "drift" if self.drift else "match"


@dataclass(frozen=True)
class CheckResult:
    since: date
    until: date  # included
    tables: tuple[str, ...]
    days: tuple[DayTable, ...]  # every (day, table) checked
    keys: tuple[KeyDrift, ...]  # only when asked for details
    unapplied: tuple[Unapplied, ...] = ()  # days with requests left out (outbox deliveries not applied)

    @property
    def drift(self) -> bool:
        return any(d.drift for d in self.days)

    def totals(self) -> dict[str, Any]:
        return {
            "day_tables": len(self.days),
            "day_tables_with_drift": sum(1 for d in self.days if d.drift),
            "day_tables_pruned": sum(1 for d in self.days if d.pruned),
            **{status: sum(getattr(d, status) for d in self.days) for status in STATUSES},
            "spend_delta": sum(d.spend_delta for d in self.days),
        }


@dataclass(frozen=True)
class Unapplied:
    """One UTC day's requests left out because their outbox delivery is not applied yet."""

    date: str
    pending: int = 0  # the proxy's worker has yet to add them
    parked: int = 0  # the worker gave up: `dbctl accounting retry --parked`

    @property
    def requests(self) -> int:
        return self.pending + self.parked


def unapplied_totals(days: Iterable[Unapplied]) -> dict[str, int]:
    listed = list(days)
    return {"pending": sum(u.pending for u in listed), "parked": sum(u.parked for u in listed)}


def has_outbox(conn: psycopg.Connection) -> bool:
    """Whether the database has LiteLLM 1.110's spend-log outbox."""
    return bool(sqlfiles.run(conn, "accounting/outbox_exists"))


def unapplied_day(conn: psycopg.Connection, day: date, outbox: bool) -> Unapplied | None:
    """The day's requests whose delivery is pending or parked (None without an outbox, or none)."""
    if not outbox:
        return None
    counts = {r["state"]: r["requests"] for r in sqlfiles.run(
        conn, "daily/unapplied", {"since": day, "until": day + timedelta(days=1)})}
    found = Unapplied(day.isoformat(), counts.get("pending", 0), counts.get("parked", 0))
    return found if found.requests else None


def summarize(day: date, tables: Sequence[str], drifts: Iterable[KeyDrift]) -> list[DayTable]:
    """One DayTable per table for `day` (zeros where nothing drifts)."""
    counts = {name: dict.fromkeys(STATUSES, 0) for name in tables}
    spend = dict.fromkeys(tables, 0.0)
    for drift in drifts:
        counts[drift.table][drift.status] += 1
        spend[drift.table] += drift.delta.spend
    return [DayTable(day.isoformat(), name, counts[name][MISSING], counts[name][EXTRA], counts[name][DIFFER],
                     counts[name][LEGACY], spend[name]) for name in tables]


def _key_drift(row: Mapping[str, Any]) -> KeyDrift:
    return KeyDrift(
        table=row["daily"], date=row["date"], entity_id=row["entity_id"], api_key=row["api_key"],
        model=row["model"], custom_llm_provider=row["custom_llm_provider"],
        mcp_namespaced_tool_name=row["mcp_namespaced_tool_name"], endpoint=row["endpoint"],
        status=row["status"], requests=row["requests"], stored_rows=row["stored_rows"],
        legacy_rows=row["legacy_rows"], spend_recomputed=row["spend_recomputed"],
        delta=Counters(**{name: row[name] for name in COUNTER_COLUMNS}),
        model_group=row["model_group"], writer_request_id=row["writer_request_id"],
    )


def diff_day(conn: psycopg.Connection, day: date, tables: Sequence[str], *, first_writer: bool = False,
             work_mem: str = DEFAULT_WORK_MEM, outbox: bool | None = None) -> list[KeyDrift]:
    """The keys of one UTC day whose stored rows differ from the logs; call inside a transaction.
    With `outbox` (LiteLLM 1.110 or later), requests whose delivery is not applied yet are left out,
    and the rules are 1.110's worker's where they differ (queries/daily/diff.sql `litellm_1110`:
    tags, headroom savings). None: asked of the database."""
    if outbox is None:
        outbox = has_outbox(conn)
    sqlfiles.run(conn, "session/tune_transaction", {"work_mem": validate_work_mem(work_mem)})
    rows = sqlfiles.run(conn, "daily/diff", {
        "since": day, "until": day + timedelta(days=1), "tables": list(tables), "first_writer": first_writer,
        "litellm_1110": outbox,
    }, identifiers={"deliveries": OUTBOX_TABLE if outbox else "no_deliveries"})
    return [_key_drift(r) for r in rows]


def check(conn: psycopg.Connection, since: date, until: date, tables: Sequence[str] = TABLE_NAMES, *,
          details: bool = False, work_mem: str = DEFAULT_WORK_MEM, horizon: Horizon = NO_HORIZON,
          progress: Callable[[date], None] | None = None) -> CheckResult:
    """Stored daily rows against the logs, day by day (each day one statement, one snapshot); the
    tables `horizon` says LiteLLM has pruned on a day are reported pruned, not recomputed."""
    days: list[DayTable] = []
    keys: list[KeyDrift] = []
    left_out: list[Unapplied] = []
    outbox = has_outbox(conn)
    for day in days_between(since, until):
        pruned = horizon.pruned(day, tables)
        kept = [name for name in tables if name not in pruned]
        drifts: list[KeyDrift] = []
        if kept:
            with conn.transaction():
                drifts = diff_day(conn, day, kept, work_mem=work_mem, outbox=outbox)
                unapplied = unapplied_day(conn, day, outbox)
            if unapplied:
                left_out.append(unapplied)
        checked = {d.table: d for d in summarize(day, kept, drifts)}
        days.extend(checked.get(name) or DayTable(day.isoformat(), name, pruned=True) for name in tables)
        if details:
            keys.extend(drifts)
        if progress:
            progress(day)
    return CheckResult(since, until, tuple(tables), tuple(days), tuple(keys), tuple(left_out))
