"""The spend-log outbox of LiteLLM 1.110 (`general_settings.use_spend_logs_ledger`, on by default).

The proxy stores each spend log in one transaction with a `LiteLLM_SpendLogDelivery` row; its worker
(`litellm/accounting/worker.py`, `AccountingDeliveryRepository`) later applies the row's
`accounting_payload` to the counters and daily tables and marks it `applied`. A failed batch leaves
its rows `pending` with `attempts` + 1 and a backoff; a row with attempts > 0 is retried alone, and
one failing for its own data 5 times is `parked`, which no one retries: its spend is in the logs
but missing from every counter. Applied rows are deleted after
LITELLM_ACCOUNTING_DELIVERY_RETENTION_DAYS (default 1). Databases from before 1.110 have no outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from litellm_dbctl.audit import trail
from litellm_dbctl.common.clock import utc_naive
from litellm_dbctl.db import database, sqlfiles

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

TABLE = "LiteLLM_SpendLogDelivery"
LOCK_FAMILY = "accounting"
NO_OUTBOX = (f"no spend-log outbox in this database ({TABLE}): LiteLLM before 1.110 applies spend "
             "directly; nothing to report")


@dataclass(frozen=True)
class ParkedGroup:
    last_error: str
    deliveries: int
    first_created_at: datetime
    last_created_at: datetime
    example_request_id: str


@dataclass(frozen=True)
class Status:
    outbox: bool  # False: the database has no LiteLLM_SpendLogDelivery (LiteLLM before 1.110)
    pending: int = 0
    retrying: int = 0  # of `pending`: failed before, waiting out a backoff
    parked: int = 0
    applied: int = 0  # still kept (the worker deletes them after the retention days)
    oldest_pending_seconds: float = 0.0
    oldest_pending_at: datetime | None = None
    parked_by_error: tuple[ParkedGroup, ...] = ()


def has_outbox(conn: psycopg.Connection) -> bool:
    return bool(sqlfiles.run(conn, "accounting/outbox_exists"))


def status(conn: psycopg.Connection) -> Status:
    """The outbox's backlog, as LiteLLM's worker reports it, plus the parked rows by last_error."""
    if not has_outbox(conn):
        return Status(outbox=False)
    counts = sqlfiles.run(conn, "accounting/backlog")
    groups = tuple(ParkedGroup(**r) for r in sqlfiles.run(conn, "accounting/parked_by_error"))
    return Status(True, counts["pending"], counts["retrying"], counts["parked"], counts["applied"],
                  counts["oldest_pending_seconds"], counts["oldest_pending_at"], groups)


@dataclass(frozen=True)
class Selection:
    """Which deliveries `retry` hands back: parked ones, and unless `parked_only` pending ones in a
    retry backoff; narrowed to one request and to those older than `older_than` seconds."""

    parked_only: bool = False
    request_id: str | None = None
    older_than: float | None = None


@dataclass(frozen=True)
class Retried:
    delivery_id: str
    request_id: str
    state: str  # before: parked | pending
    attempts: int  # before
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True)
class RetryResult:
    outbox: bool
    deliveries: tuple[Retried, ...]
    dry_run: bool


def retry(target: Target, selection: Selection, *, actor: str = "dbctl", audit: bool = True,
          dry_run: bool = False, lock_timeout: float = 30.0) -> RetryResult:
    """Make the selected deliveries due now, in the shape the worker's own failure path leaves a row
    it will retry (queries/accounting/retry.sql), with one LiteLLM_AuditLog row each. One
    transaction; a wait on the `accounting` advisory lock or on a row the worker has claimed is
    bounded by `lock_timeout` (then LockBusy, exit 5). Times are the database's, as the worker's are."""
    command = "accounting retry"

    def attempt(conn: psycopg.Connection) -> RetryResult:
        with conn.transaction(force_rollback=dry_run):
            if not has_outbox(conn):
                return RetryResult(False, (), dry_run)
            with database.advisory_lock(conn, database.family_key(LOCK_FAMILY), timeout=lock_timeout,
                                        what=command, scope="xact"):
                rows = sqlfiles.run(conn, "accounting/retry_candidates", {
                    "parked_only": selection.parked_only, "request_id": selection.request_id,
                    "older_than": selection.older_than})
                chosen = tuple(Retried(r["delivery_id"], r["request_id"], r["state"], r["attempts"],
                                       r["last_error"], r["created_at"]) for r in rows)
                if chosen:
                    after = {r["delivery_id"]: r for r in sqlfiles.run(
                        conn, "accounting/retry", {"delivery_ids": [d.delivery_id for d in chosen]})}
                    if audit:
                        now = utc_naive(datetime.now(timezone.utc))
                        trail.write(conn, [_audit_row(d, before, after[d.delivery_id])
                                           for d, before in zip(chosen, rows)], actor=actor, now=now)
                return RetryResult(True, chosen, dry_run)

    with database.connect(target, command=command, lock_timeout=database.attempt_lock_timeout(lock_timeout)) as conn, \
            database.LockWait(target, timeout=lock_timeout, what=command, command=command) as wait:
        wait.attach(conn)
        return database.retry(lambda: attempt(conn), what=command, wait=wait)


def _audit_row(delivery: Retried, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """`updated` on LiteLLM_SpendLogDelivery: the retry fields before and after."""
    fields = ("state", "attempts", "next_attempt_at", "last_error")
    return trail.row("updated", TABLE, delivery.delivery_id, {f: before[f] for f in fields},
                     {"state": "pending", "attempts": after["attempts"], "next_attempt_at": after["next_attempt_at"],
                      "last_error": delivery.last_error})
