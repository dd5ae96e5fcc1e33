"""`migrate deploy`: LiteLLM's Prisma migrations applied with no Node and no Prisma.

Where dbctl is stronger than Prisma: a transactional migration and its ledger row commit together
(a crash leaves either nothing or a finished row, never a "failed" row for a migration that did
apply); applied files are verified against their checksums before anything new runs; a statement
that hits lock_timeout is retried (`database.retry`); and two kinds of unfinished rows that are
provably safe are closed instead of blocking every later deploy: a row Prisma left after its script
succeeded (the proof LiteLLM's own recovery uses), and an interrupted `CREATE INDEX CONCURRENTLY`
file (its INVALID index is dropped and built again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import psycopg.errors
from psycopg import ClientCursor

from litellm_dbctl.common import uuids
from litellm_dbctl.common.errors import IntegrityError, LockBusy, OperationalError
from litellm_dbctl.common.redaction import redact
from litellm_dbctl.db import database, sqlfiles
from litellm_dbctl.db.config import Target
from litellm_dbctl.migrate.ledger import FAILED, FINISH, MODIFIED, Status, ensure_ledger, evaluate, read_ledger, recovery
from litellm_dbctl.migrate.locks import connect_for_migrations, migration_locks
from litellm_dbctl.migrate.source import Migration, Source

log = logging.getLogger("dbctl")


@dataclass(frozen=True)
class DeployResult:
    source: str
    pending: tuple[str, ...]  # what was (or, with dry_run, would be) applied, in order
    applied: tuple[str, ...]
    seconds: float
    created_ledger: bool


Progress = Callable[[int, int, Migration], None]


def deploy(
    target: Target,
    source: Source,
    *,
    to: str | None = None,
    dry_run: bool = False,
    allow_modified: bool = False,
    lock_timeout: float = 60.0,
    statement_lock_timeout: str = "10s",
    statement_timeout: str | None = None,
    progress: Progress | None = None,
) -> DeployResult:
    """Apply pending migrations in name order under Prisma's and LiteLLM's advisory locks.

    Refuses (IntegrityError) while a migration is failed, or an applied file was modified unless
    `allow_modified`; a database with tables and no ledger needs `baseline` (Prisma's P3005). A
    transactional migration cancelled by `statement_timeout` is recorded rolled back, not failed.
    """
    started = time.monotonic()
    if to is not None:
        source.get(to)
    with connect_for_migrations(target, "migrate deploy", statement_lock_timeout, statement_timeout) as conn, \
         migration_locks(conn, timeout=lock_timeout, what="migrate deploy"):
        rows = read_ledger(conn)
        if rows is None and sqlfiles.run(conn, "db/user_tables"):
            raise IntegrityError(
                "the schema has tables but no _prisma_migrations ledger (Prisma's P3005)",
                hint="adopt it with `dbctl migrate baseline`",
            )
        current = evaluate(source, rows)
        refuse_problems(current, allow_modified=allow_modified)
        pending = [source.get(m.name) for m in current.pending if to is None or m.name <= to]
        if dry_run:
            return DeployResult(source.label, tuple(m.name for m in pending), (), time.monotonic() - started, False)
        created = ensure_ledger(conn, target)
        unfinished: dict[str, set[str | None]] = {}
        for row in rows or []:
            if row.failed and source.find(row.migration_name):
                unfinished.setdefault(row.migration_name, set()).add(recovery(row, source.get(row.migration_name)))
        applied: list[str] = []
        try:
            for index, migration in enumerate(pending, 1):
                if progress:
                    progress(index, len(pending), migration)
                kinds = unfinished.get(migration.name)
                if kinds == {FINISH}:
                    _finish_prisma_rows(conn, migration)
                else:
                    if kinds:  # an interrupted index build: keep its rows as history, run it again
                        log.info("%s: resuming an interrupted index build", migration.name)
                        sqlfiles.run(conn, "ledger/roll_back_failed", {"name": migration.name})
                    apply_one(conn, migration)
                applied.append(migration.name)
        finally:
            sqlfiles.forget_ledger(conn)
    return DeployResult(source.label, tuple(applied), tuple(applied), time.monotonic() - started, created)


def refuse_problems(current: Status, *, allow_modified: bool) -> None:
    failed = current.named(FAILED)
    if failed:
        names = ", ".join(m.name for m in failed)
        raise IntegrityError(
            f"migration {names} failed in this database ({failed[0].detail}); "
            "no new migration will run (Prisma's P3009)",
            hint=f"undo its partial changes by hand and run `dbctl migrate resolve --rolled-back {failed[0].name}`, "
                 f"or finish it by hand and run `dbctl migrate resolve --applied {failed[0].name}`",
        )
    modified = current.named(MODIFIED)
    if modified and not allow_modified:
        raise IntegrityError(
            f"applied migration {modified[0].name} was modified after it was applied ({modified[0].detail})"
            + (f" and {len(modified) - 1} more" if len(modified) > 1 else ""),
            hint="restore the original file, or pass --allow-modified to deploy anyway",
        )


def _finish_prisma_rows(conn: psycopg.Connection[Any], migration: Migration) -> None:
    """Set finished_at on the rows `recovery` proved complete (LiteLLM's migration_recovery)."""
    sqlfiles.run(conn, "ledger/finish_completed", {"name": migration.name})
    log.info("%s: its script had succeeded before the run was cut off; recorded it applied", migration.name)


def apply_one(conn: psycopg.Connection[Any], migration: Migration) -> None:
    """Run one migration and record it. Lock timeouts and deadlocks are retried with backoff; when
    they persist the attempt is recorded failed *and* rolled back (nothing of it stayed) and
    LockBusy (exit 5) says to retry later. Any other error leaves Prisma's failed row."""
    runner = _run_in_transaction if migration.transactional else _run_outside_transaction
    started_at = datetime.now().astimezone()
    try:
        database.retry(lambda: runner(conn, migration), what=f"migration {migration.name}",
                       on_retry=lambda exc, n: log.info("%s: %s; retrying (%d)", migration.name,
                                                        type(exc).__name__, n))
    except OperationalError as exc:  # lock timeouts or deadlocks on every attempt
        _record_failure(conn, migration, exc.message, started_at, rolled_back=True)
        raise LockBusy(f"migration {migration.name} kept waiting for locks held by other sessions; nothing of "
                       "it was applied", hint="it is recorded rolled back and the next deploy runs it again: retry "
                       "when the database is quieter, or raise --statement-lock-timeout") from None
    except _Recorded as exc:
        raise _failed(migration, exc.error) from None
    except psycopg.Error as exc:
        if conn.broken:
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise OperationalError(
                f"the connection was lost while applying {migration.name}: {redact(first_line)}",
                hint="nothing of it was kept or recorded (it ran in one transaction); run deploy again"
                if migration.transactional else
                "its started row stays unfinished; see `dbctl migrate status`, then run deploy again",
            ) from None
        if migration.transactional and isinstance(exc, psycopg.errors.QueryCanceled):
            # statement_timeout or pg_cancel_backend: its one transaction rolled back, ledger row and
            # all, so nothing stayed. The attempt goes into the history rolled back (Prisma skips
            # such rows, as a `resolve --rolled-back` one) and the next deploy runs it again.
            _record_failure(conn, migration, prisma_logs(exc, migration), started_at, rolled_back=True)
            raise OperationalError(
                f"migration {migration.name} was cancelled [{exc.sqlstate}]: {redact(_message(exc))}; "
                "nothing of it was applied",
                hint="it is recorded rolled back and the next `dbctl migrate deploy` runs it again; raise "
                     "--statement-timeout if it needs longer") from None
        _record_failure(conn, migration, prisma_logs(exc, migration), started_at, rolled_back=False)
        raise _failed(migration, exc) from None


def _run_in_transaction(conn: psycopg.Connection[Any], migration: Migration) -> None:
    """The file and its ledger row commit together, or neither does: both go in one simple-protocol
    query string, which PostgreSQL runs as one implicit transaction (as Prisma sends a file), in a
    single round trip. The script comes first, so error positions are positions in the file."""
    query = sqlfiles.get("ledger/insert_applied")
    sqlfiles.check_requires(conn, query)
    record = ClientCursor(conn).mogrify(
        query.sql, {"id": uuids.v4(), "checksum": migration.checksum, "name": migration.name})
    conn.execute(f"{migration.sql}\n;\n{record}")


def _run_outside_transaction(conn: psycopg.Connection[Any], migration: Migration) -> None:
    """As Prisma runs it: the started row, the script with no transaction block, then finished.
    An INVALID index an earlier interrupted or timed-out build left is dropped first, since
    `IF NOT EXISTS` would otherwise accept it as built."""
    for name in migration.concurrent_indexes or ():
        drop_invalid_index(conn, name)
    row_id = uuids.v4()
    sqlfiles.run(conn, "ledger/insert_started", {"id": row_id, "checksum": migration.checksum, "name": migration.name})
    try:
        conn.execute(migration.sql)
    except database.conflict_errors() as exc:
        # Transient: this attempt goes into the history rolled back, the retry leaves its own row.
        sqlfiles.run(conn, "ledger/mark_failed", {"id": row_id, "logs": prisma_logs(exc, migration),
                                                  "rolled_back": True})
        for name in migration.concurrent_indexes or ():
            drop_invalid_index(conn, name)
        raise
    except psycopg.Error as exc:
        if not conn.broken:
            sqlfiles.run(conn, "ledger/mark_failed", {"id": row_id, "logs": prisma_logs(exc, migration),
                                                      "rolled_back": False})
        raise _Recorded(exc) from exc
    sqlfiles.run(conn, "ledger/mark_applied", {"id": row_id})


def _message(error: BaseException) -> str:
    diag = getattr(error, "diag", None)
    return diag.message_primary if diag is not None and diag.message_primary else str(error).splitlines()[0]


class _Recorded(Exception):
    """A failure whose ledger row is already written (outside a transaction)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def drop_invalid_index(conn: psycopg.Connection[Any], name: str) -> bool:
    """Drop index `name` when it is INVALID (an interrupted concurrent build). Refuses while a
    build of it is still running in another session. True when one was dropped."""
    state = sqlfiles.run(conn, "indexes/state", {"index": name})
    if state is None or state["valid"]:
        return False
    if state["building"]:
        raise LockBusy(f"index {name} is being built by another session (pid {state['building']})",
                       hint="wait for that build to finish, then retry")
    log.info("dropping INVALID index %s left by an interrupted build", name)
    sqlfiles.run(conn, "indexes/drop_invalid", identifiers={"index": name})
    return True


def _record_failure(conn: psycopg.Connection[Any], migration: Migration, logs: str, started_at: datetime, *,
                    rolled_back: bool) -> None:
    if not migration.transactional:
        return  # the outside-transaction runner recorded its own row
    sqlfiles.run(conn, "ledger/insert_failed", {
        "id": uuids.v4(), "checksum": migration.checksum, "name": migration.name,
        "logs": redact(logs), "started_at": started_at, "rolled_back": rolled_back})


def prisma_logs(exc: BaseException, migration: Migration | None = None) -> str:
    """The ledger `logs` text for a failed migration, shaped like Prisma's P3018 report."""
    diag = getattr(exc, "diag", None)
    code = getattr(diag, "sqlstate", None) or "unknown"
    lines = [f"Database error code: {code}", "", "Database error:",
             f"ERROR: {diag.message_primary if diag and diag.message_primary else exc}"]
    if diag is not None and diag.message_detail:
        lines.append(f"DETAIL: {diag.message_detail}")
    if diag is not None and diag.message_hint:
        lines.append(f"HINT: {diag.message_hint}")
    line = _error_line(exc, migration)
    if line and migration is not None:
        lines.append(f"Position: line {line} of {migration.name}/migration.sql")
    return redact("\n".join(lines))


def _error_line(exc: BaseException, migration: Migration | None) -> int | None:
    """The file line of the error, from the server's character position in the script."""
    diag = getattr(exc, "diag", None)
    position = getattr(diag, "statement_position", None)
    if migration is None or not position or not str(position).isdigit():
        return None
    return migration.sql.count("\n", 0, int(position) - 1) + 1


def _failed(migration: Migration, error: BaseException) -> OperationalError:
    diag = getattr(error, "diag", None)
    message = _message(error)
    code = f" [{diag.sqlstate}]" if diag is not None and diag.sqlstate else ""
    line = _error_line(error, migration)
    where = f" at line {line}" if line else ""
    return OperationalError(
        f"migration {migration.name} failed{where}{code}: {redact(message)}",
        hint="it is recorded as failed (Prisma's P3018); see `dbctl migrate status`, then `dbctl migrate resolve`",
    )
