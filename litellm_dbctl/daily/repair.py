"""LiteLLM's daily spend tables repaired from LiteLLM_SpendLogs: `reconcile` writes what `check`
finds back for closed days, one transaction per day.

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
count, and the next reconcile removes it. Tables LiteLLM's retention has pruned on a day
(daily.retention) are not touched: rebuilding them would put deleted tag rows back, or zero rows
whose logs LiteLLM deleted. On LiteLLM 1.110's spend-log outbox there is no such queue in memory:
the increment owed is a pending (or parked) delivery row, and the diff leaves its request out
(`drift.diff_day`), so the worker's later increment is the only one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import TYPE_CHECKING, Any

import psycopg

from litellm_dbctl.common import uuids
from litellm_dbctl.common.errors import OperationalError
from litellm_dbctl.daily.drift import (
    COUNTER_COLUMNS,
    DIFFER,
    EXTRA,
    MISSING,
    KeyDrift,
    Unapplied,
    diff_day,
    has_outbox,
    unapplied_day,
)
from litellm_dbctl.daily.retention import NO_HORIZON, Horizon
from litellm_dbctl.daily.tables import BY_NAME, DEFAULT_WORK_MEM, TABLE_NAMES, DailyTable, days_between
from litellm_dbctl.db import database, release, sqlfiles

if TYPE_CHECKING:
    from litellm_dbctl.db.config import Target

LOCK_FAMILY = "daily"
DEFAULT_SETTLE = timedelta(hours=1)


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
    retention_pruned: tuple[tuple[date, str], ...] = ()  # (day, table) left alone: LiteLLM pruned it
    unapplied: tuple[Unapplied, ...] = ()  # days with requests left out (outbox deliveries not applied)

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
            "retention_pruned": len(self.retention_pruned),
        }


def closed_days(days: Sequence[date], *, now: datetime, settle: timedelta) -> tuple[list[date], list[date]]:
    """(closed, open): a day is closed once `settle` has passed since the UTC midnight ending it."""
    closed: list[date] = []
    still_open: list[date] = []
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
    horizon: Horizon = NO_HORIZON,
    now: datetime | None = None,
    progress: Callable[[date, list[TableRepair]], None] | None = None,
) -> ReconcileResult:
    """Repair the daily tables of every closed day in [since, until], one transaction per day,
    except those `horizon` says LiteLLM's retention has pruned.

    Takes the `daily` advisory lock for the whole run (LockBusy after `lock_timeout`). A dry run
    executes the same statements and rolls each day back.
    """
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    days = days_between(since, until)
    still_open: list[date]
    if include_today:
        todo, still_open = days, []
    else:
        todo, still_open = closed_days(days, now=moment, settle=settle)
    repairs: list[TableRepair] = []
    left: list[tuple[date, str]] = []
    left_out: list[Unapplied] = []
    with (database.connect(target, command="daily reconcile", autocommit=True) as conn,
          database.advisory_lock(conn, database.family_key(LOCK_FAMILY), timeout=lock_timeout, what="daily reconcile")):
        release.require_known(conn, target, "daily reconcile")  # LiteLLM's counting rules, per release
        outbox = has_outbox(conn)
        for day in todo:
            pruned = horizon.pruned(day, tables)
            left.extend((day, name) for name in pruned)
            kept = [name for name in tables if name not in pruned]
            if not kept:
                continue
            try:
                done = database.retry(
                    partial(reconcile_day, conn, day, kept, prune_orphans=prune_orphans, dry_run=dry_run,
                            work_mem=work_mem, outbox=outbox),
                    what=f"daily reconcile {day}")
                unapplied = unapplied_day(conn, day, outbox)
            except psycopg.Error as exc:
                raise OperationalError(
                    f"daily reconcile {day}: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}",
                    hint=f"{day} is untouched; the days before it are {'checked' if dry_run else 'repaired'}",
                ) from None
            repairs.extend(done)
            if unapplied:
                left_out.append(unapplied)
            if progress:
                progress(day, done)
    return ReconcileResult(since, until, tuple(tables), dry_run, prune_orphans, tuple(repairs), tuple(still_open),
                           tuple(left), tuple(left_out))


def reconcile_day(conn: psycopg.Connection, day: date, tables: Sequence[str] = TABLE_NAMES, *,
                  prune_orphans: bool = False, dry_run: bool = False,
                  work_mem: str = DEFAULT_WORK_MEM, outbox: bool | None = None) -> list[TableRepair]:
    """One day in one transaction (a savepoint when `conn` is already in one): diff, then per table
    lock, merge, correct, insert, prune. The caller holds the `daily` lock and retries. With
    `outbox` (None: asked of the database), requests whose delivery is not applied yet are left out."""
    with conn.transaction(force_rollback=dry_run):
        drifts = diff_day(conn, day, tables, first_writer=True, work_mem=work_mem, outbox=outbox)
        by_table: dict[str, list[KeyDrift]] = {name: [] for name in tables}
        for drift in drifts:
            by_table[drift.table].append(drift)
        return [_repair_table(conn, BY_NAME[name], day, by_table[name], prune_orphans=prune_orphans)
                for name in tables]


@dataclass(frozen=True)
class _StoredRow:
    id: str
    created: str
    legacy: bool


def _stale(table: DailyTable, day: date) -> Exception:
    """Rows the diff read are gone (LiteLLM's tag retention, a hand edit): the plan is stale. This is
    what PostgreSQL reports for a concurrent change, so database.retry runs the day again."""
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
            others: list[str | None] = [r.id for r in rows[drift.key()][1:]]
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
