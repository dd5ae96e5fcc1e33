"""LiteLLM's six daily spend tables, checked against LiteLLM_SpendLogs and repaired from them.

LiteLLM rolls every request up into per-day rows per user, team, organization, end user, agent and
tag (litellm-database.md §1). The rollups drift from the logs: batches dropped on database errors,
in-memory queues lost in a crash, hand edits, NULL-key rows from old versions. `check` recomputes
the six tables from the logs by LiteLLM's rules, in one set-based statement per UTC day
(`daily/diff`: one pass over that day's logs; every request adds to its keys, every stored row
subtracts, one GROUP BY leaves the delta per key), and reports the keys that differ. `reconcile`
writes the difference back for closed days, one transaction per day.

Why increments: a closed day is not quite closed. A proxy that was down or behind can still flush
rows for it (LiteLLM adds with `col = col + EXCLUDED.col`). So a repair never writes absolute
values: it adds (recomputed - stored as read) to each counter of an existing row, inserts missing
rows with LiteLLM's own upsert rule (a concurrent insert of the same key gets the values added),
folds legacy rows into their keeper by adding their current values, and deletes an orphan only if
it still holds the counters that were read. A proxy write that commits after the diff
read therefore survives on top of the repaired value, and one that committed before it is part of
what was read. Rows are locked in LiteLLM's key order before they are changed, so a late flush
waits rather than deadlocks; a lock timeout, deadlock or serialization failure rolls the day back and
runs it again. What a repair cannot see: a proxy's in-memory queue (requests whose log is already in
the table but whose daily increment is not yet flushed would be counted twice once it lands). That
is why only days older than the settle time are repaired unless asked; `check` shows any such double
count, and the next reconcile removes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import uuids
from litellm_dbctl.common.errors import InvalidInput, OperationalError
from litellm_dbctl.db import database, sqlfiles

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

LOCK_FAMILY = "daily"
DEFAULT_WORK_MEM = "128MB"
DEFAULT_SETTLE = timedelta(hours=1)
SPEND_TOLERANCE = 1e-9  # relative: float sums added in another order differ in the last bits


@dataclass(frozen=True)
class DailyTable:
    name: str  # dbctl's short name, also the `daily` column of daily/diff
    table: str
    entity_column: str


TABLES: tuple[DailyTable, ...] = (
    DailyTable("user", "LiteLLM_DailyUserSpend", "user_id"),
    DailyTable("team", "LiteLLM_DailyTeamSpend", "team_id"),
    DailyTable("org", "LiteLLM_DailyOrganizationSpend", "organization_id"),
    DailyTable("end_user", "LiteLLM_DailyEndUserSpend", "end_user_id"),
    DailyTable("agent", "LiteLLM_DailyAgentSpend", "agent_id"),
    DailyTable("tag", "LiteLLM_DailyTagSpend", "tag"),
)
TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in TABLES)
_BY_NAME = {t.name: t for t in TABLES}
_ALIASES = {
    **{t.table.lower(): t.name for t in TABLES},
    "organization": "org", "end-user": "end_user", "enduser": "end_user", "customer": "end_user",
    "users": "user", "teams": "team", "orgs": "org", "end_users": "end_user", "agents": "agent", "tags": "tag",
}


def resolve_tables(names: Iterable[str]) -> tuple[str, ...]:
    """Short table names in dbctl's order; all six when none are given. Raises InvalidInput."""
    wanted: set[str] = set()
    for raw in names:
        for part in raw.split(","):
            key = part.strip().lower()
            if not key:
                continue
            name = key if key in _BY_NAME else _ALIASES.get(key)
            if name is None:
                raise InvalidInput(f"--table: unknown daily table {part.strip()!r}; "
                                   f"expected one of {', '.join(TABLE_NAMES)}")
            wanted.add(name)
    return tuple(n for n in TABLE_NAMES if n in wanted) if wanted else TABLE_NAMES


_RELATIVE_DAY = re.compile(r"^(\d+)\s*d$")
_MEMORY = re.compile(r"^\d+\s*(kB|MB|GB|TB)?$")


def validate_work_mem(value: str) -> str:
    """A PostgreSQL memory size for work_mem (`64MB`, `1GB`, kilobytes without a unit)."""
    if not _MEMORY.match(value.strip()):
        raise InvalidInput(f"--work-mem: {value!r} is not a memory size (e.g. 64MB, 1GB)")
    return value.strip()


def parse_day(text: str, today: date, *, option: str = "--since") -> date:
    """A UTC calendar day: YYYY-MM-DD, `today`, `yesterday` or `Nd` (N days before today)."""
    value = text.strip().lower()
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    relative = _RELATIVE_DAY.match(value)
    if relative:
        return today - timedelta(days=int(relative.group(1)))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option}: {text!r} is not a day (YYYY-MM-DD, today, yesterday or Nd)") from None


def utc_today(now: datetime | None = None) -> date:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).date()


def days_between(since: date, until: date) -> list[date]:
    """Every day from `since` to `until`, both included. Raises InvalidInput when reversed."""
    if until < since:
        raise InvalidInput(f"--until {until} is before --since {since}")
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


# -- what is compared ---------------------------------------------------------------------------


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
    """One daily table on one UTC day: how many keys drift, by kind, and the spend they account for."""

    date: str
    table: str
    missing: int = 0
    extra: int = 0
    differ: int = 0
    legacy: int = 0
    spend_delta: float = 0.0

    @property
    def drift(self) -> bool:
        return bool(self.missing or self.extra or self.differ or self.legacy)


@dataclass(frozen=True)
class CheckResult:
    since: date
    until: date  # included
    tables: tuple[str, ...]
    days: tuple[DayTable, ...]  # every (day, table) checked
    keys: tuple[KeyDrift, ...]  # only when asked for details

    @property
    def drift(self) -> bool:
        return any(d.drift for d in self.days)

    def totals(self) -> dict[str, Any]:
        return {
            "day_tables": len(self.days),
            "day_tables_with_drift": sum(1 for d in self.days if d.drift),
            **{status: sum(getattr(d, status) for d in self.days) for status in STATUSES},
            "spend_delta": sum(d.spend_delta for d in self.days),
        }


def summarize(day: date, tables: Sequence[str], drifts: Iterable[KeyDrift]) -> list[DayTable]:
    """One DayTable per table for `day` (zeros where nothing drifts)."""
    counts = {name: dict.fromkeys(STATUSES, 0) for name in tables}
    spend = dict.fromkeys(tables, 0.0)
    for drift in drifts:
        counts[drift.table][drift.status] += 1
        spend[drift.table] += drift.delta.spend
    return [DayTable(day.isoformat(), name, spend_delta=spend[name], **counts[name]) for name in tables]


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
             work_mem: str = DEFAULT_WORK_MEM) -> list[KeyDrift]:
    """The keys of one UTC day whose stored rows differ from the logs; call inside a transaction."""
    sqlfiles.run(conn, "session/tune_transaction", {"work_mem": validate_work_mem(work_mem)})
    rows = sqlfiles.run(conn, "daily/diff", {
        "since": day, "until": day + timedelta(days=1), "tables": list(tables), "first_writer": first_writer,
    })
    return [_key_drift(r) for r in rows]


def check(conn: psycopg.Connection, since: date, until: date, tables: Sequence[str] = TABLE_NAMES, *,
          details: bool = False, work_mem: str = DEFAULT_WORK_MEM,
          progress: Callable[[date], None] | None = None) -> CheckResult:
    """Stored daily rows against the logs, day by day (each day one statement, one snapshot)."""
    days: list[DayTable] = []
    keys: list[KeyDrift] = []
    for day in days_between(since, until):
        with conn.transaction():
            drifts = diff_day(conn, day, tables, work_mem=work_mem)
        days.extend(summarize(day, tables, drifts))
        if details:
            keys.extend(drifts)
        if progress:
            progress(day)
    return CheckResult(since, until, tuple(tables), tuple(days), tuple(keys))


# -- repair -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableRepair:
    """What a reconcile did (or, in a dry run, would do) to one daily table on one day."""

    date: str
    table: str
    inserted: int = 0  # missing rows written
    updated: int = 0  # rows whose counters were corrected
    merged: int = 0  # legacy rows folded into their keeper and deleted
    normalized: int = 0  # keepers whose NULL key columns became ''
    pruned: int = 0  # orphan rows deleted (--prune-orphans)
    orphans_kept: int = 0  # keys no log derives, left as they are
    changed_meanwhile: int = 0  # orphans not pruned because a proxy wrote to them during the run
    spend_delta: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.merged or self.normalized or self.pruned)


@dataclass(frozen=True)
class ReconcileResult:
    since: date
    until: date
    tables: tuple[str, ...]
    dry_run: bool
    prune_orphans: bool
    repairs: tuple[TableRepair, ...]
    open_days: tuple[date, ...]  # skipped: not older than the settle time

    @property
    def changed(self) -> bool:
        return any(r.changed for r in self.repairs)

    def totals(self) -> dict[str, Any]:
        return {
            "days": len({r.date for r in self.repairs}),
            "days_changed": len({r.date for r in self.repairs if r.changed}),
            **{name: sum(getattr(r, name) for r in self.repairs)
               for name in ("inserted", "updated", "merged", "normalized", "pruned", "orphans_kept",
                            "changed_meanwhile", "spend_delta")},
        }


def closed_days(days: Sequence[date], *, now: datetime, settle: timedelta) -> tuple[list[date], list[date]]:
    """(closed, open): a day is closed once `settle` has passed since the UTC midnight ending it."""
    closed, still_open = [], []
    for day in days:
        end = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=1)
        (closed if now >= end + settle else still_open).append(day)
    return closed, still_open


def reconcile(
    target: Target,
    since: date,
    until: date,
    tables: Sequence[str] = TABLE_NAMES,
    *,
    settle: timedelta = DEFAULT_SETTLE,
    include_today: bool = False,
    prune_orphans: bool = False,
    dry_run: bool = False,
    lock_timeout: float = 30.0,
    work_mem: str = DEFAULT_WORK_MEM,
    now: datetime | None = None,
    progress: Callable[[date, list[TableRepair]], None] | None = None,
) -> ReconcileResult:
    """Repair the daily tables of every closed day in [since, until], one transaction per day.

    Takes the `daily` advisory lock for the whole run (LockBusy after `lock_timeout`). A dry run
    executes the same statements and rolls each day back.
    """
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    days = days_between(since, until)
    if include_today:
        todo, still_open = days, []
    else:
        todo, still_open = closed_days(days, now=moment, settle=settle)
    import psycopg

    repairs: list[TableRepair] = []
    with database.connect(target, command="daily reconcile", autocommit=True) as conn:
        with database.advisory_lock(conn, database.family_key(LOCK_FAMILY), timeout=lock_timeout,
                                    what="daily reconcile"):
            for day in todo:
                try:
                    done = database.retry(
                        lambda day=day: reconcile_day(conn, day, tables, prune_orphans=prune_orphans,
                                                      dry_run=dry_run, work_mem=work_mem),
                        what=f"daily reconcile {day}")
                except psycopg.Error as exc:
                    raise OperationalError(
                        f"daily reconcile {day}: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}",
                        hint=f"{day} is untouched; the days before it are {'checked' if dry_run else 'repaired'}",
                    ) from None
                repairs.extend(done)
                if progress:
                    progress(day, done)
    return ReconcileResult(since, until, tuple(tables), dry_run, prune_orphans, tuple(repairs), tuple(still_open))


def reconcile_day(conn: psycopg.Connection, day: date, tables: Sequence[str] = TABLE_NAMES, *,
                  prune_orphans: bool = False, dry_run: bool = False,
                  work_mem: str = DEFAULT_WORK_MEM) -> list[TableRepair]:
    """One day in one transaction (a savepoint when `conn` is already in one): diff, then per table
    lock, merge, correct, insert, prune. The caller holds the `daily` lock and retries."""
    with conn.transaction(force_rollback=dry_run):
        drifts = diff_day(conn, day, tables, first_writer=True, work_mem=work_mem)
        by_table: dict[str, list[KeyDrift]] = {name: [] for name in tables}
        for drift in drifts:
            by_table[drift.table].append(drift)
        return [_repair_table(conn, _BY_NAME[name], day, by_table[name], prune_orphans=prune_orphans)
                for name in tables]


@dataclass(frozen=True)
class _StoredRow:
    id: str
    created: str
    legacy: bool


def _stale(table: DailyTable, day: date) -> Exception:
    """Rows the diff read are gone (LiteLLM's tag retention, a hand edit): the plan is stale. This is
    what PostgreSQL reports for a concurrent change, so database.retry runs the day again."""
    import psycopg.errors

    return psycopg.errors.SerializationFailure(f"{table.table}: daily rows deleted during the reconcile of {day}")


def _repair_table(conn: psycopg.Connection, table: DailyTable, day: date, drifts: list[KeyDrift], *,
                  prune_orphans: bool) -> TableRepair:
    identifiers = {"LiteLLM_DailyUserSpend": table.table, "user_id": table.entity_column}
    table_only = {"LiteLLM_DailyUserSpend": table.table}
    drifts = sorted(drifts, key=KeyDrift.key)
    missing = [d for d in drifts if d.status == MISSING]
    differ = [d for d in drifts if d.status == DIFFER]
    orphans = [d for d in drifts if d.status == EXTRA]
    pruning = orphans if prune_orphans else []

    # Lock every stored row this table's repair touches, in LiteLLM's key order.
    touched = [d for d in drifts if d.legacy_rows or d.status == DIFFER or (d.status == EXTRA and prune_orphans)]
    rows: dict[tuple[str, ...], list[_StoredRow]] = {d.key(): [] for d in touched}
    if touched:
        found = sqlfiles.run(conn, "daily/key_rows", {"date": day.isoformat(), **_key_arrays(touched)},
                             identifiers=identifiers)
        for row in found:
            rows[touched[row["position"] - 1].key()].append(_StoredRow(row["id"], row["created"], row["legacy"]))
        if any(len(rows[d.key()]) != d.stored_rows for d in touched):
            raise _stale(table, day)
    keepers = {key: group[0].id for key, group in rows.items()}  # the '' row, else the oldest legacy row

    merged = 0
    merging = [d for d in touched if d.legacy_rows]
    if merging:
        keeper_ids: list[str] = []
        merged_ids: list[str | None] = []
        for drift in merging:
            others = [r.id for r in rows[drift.key()][1:]]
            for other in others or [None]:
                keeper_ids.append(keepers[drift.key()])
                merged_ids.append(other)
            merged += len(others)
        sqlfiles.run(conn, "daily/merge_legacy", {"keeper_ids": keeper_ids, "merged_ids": merged_ids},
                     identifiers=identifiers)

    updated = 0
    if differ:
        updated = sqlfiles.run(conn, "daily/apply_deltas", {
            "ids": [keepers[d.key()] for d in differ],
            **{name: [getattr(d.delta, name) for d in differ] for name in COUNTER_COLUMNS},
        }, identifiers=table_only)

    inserted = 0
    if missing:
        new_ids = [uuids.v4() for _ in missing]
        inserted = sqlfiles.run(conn, "daily/insert_missing", {
            "ids": new_ids, "dates": [d.date for d in missing], "model_groups": [d.model_group for d in missing],
            **_key_arrays(missing),
            **{name: [getattr(d.delta, name) for d in missing] for name in COUNTER_COLUMNS},
        }, identifiers=identifiers)
        if table.name == "tag":
            sqlfiles.run(conn, "daily/set_tag_request_ids",
                         {"ids": new_ids, "request_ids": [d.writer_request_id for d in missing]})

    deleted = []
    if pruning:  # each orphan is one row now (legacy rows merged above), holding -delta if unchanged
        deleted = sqlfiles.run(conn, "daily/prune_rows", {
            "ids": [keepers[d.key()] for d in pruning],
            **{name: [getattr(d.delta.negated(), name) for d in pruning] for name in COUNTER_COLUMNS},
        }, identifiers=table_only)

    return TableRepair(
        date=day.isoformat(), table=table.name, inserted=inserted, updated=updated, merged=merged,
        normalized=sum(1 for d in merging if d.legacy_rows == d.stored_rows),
        pruned=len(deleted), orphans_kept=len(orphans) - len(pruning), changed_meanwhile=len(pruning) - len(deleted),
        spend_delta=sum(d.delta.spend for d in missing + differ) - sum(row["spend"] for row in deleted),
    )


def _key_arrays(drifts: Sequence[KeyDrift]) -> dict[str, list[str]]:
    return {
        "entity_ids": [d.entity_id for d in drifts], "api_keys": [d.api_key for d in drifts],
        "models": [d.model for d in drifts], "custom_llm_providers": [d.custom_llm_provider for d in drifts],
        "mcp_namespaced_tool_names": [d.mcp_namespaced_tool_name for d in drifts],
        "endpoints": [d.endpoint for d in drifts],
    }
