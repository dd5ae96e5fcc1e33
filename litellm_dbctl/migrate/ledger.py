"""Prisma's migration ledger (`_prisma_migrations`): its rows, and every migration's state from them.

The ledger is read and written as Prisma's schema engine does, so Prisma, LiteLLM's start-up and
dbctl can take turns on one database. `evaluate` is the one reading of the rows: `migrate status`,
deploy, resolve, diff and lint all decide from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import uuids
from litellm_dbctl.common.errors import ExitCode
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.db.config import Target
from litellm_dbctl.migrate.source import Migration, Source, checksum_matches

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class LedgerRow:
    id: str
    checksum: str
    finished_at: datetime | None
    migration_name: str
    logs: str | None
    rolled_back_at: datetime | None
    started_at: datetime
    applied_steps_count: int

    @property
    def applied(self) -> bool:
        return self.finished_at is not None and self.rolled_back_at is None

    @property
    def failed(self) -> bool:
        return self.finished_at is None and self.rolled_back_at is None


def read_ledger(conn: psycopg.Connection[Any]) -> list[LedgerRow] | None:
    """All ledger rows, oldest first, or None when the ledger table does not exist."""
    if not sqlfiles.run(conn, "ledger/exists"):
        return None
    rows: list[LedgerRow] = sqlfiles.run(conn, "ledger/rows", row_type=LedgerRow)
    return rows


def ensure_ledger(conn: psycopg.Connection[Any], target: Target) -> bool:
    """Create the `?schema=` schema (as Prisma does) and the ledger if missing; True when created."""
    if target.schema and sqlfiles.run(conn, "ledger/current_schema") is None:
        sqlfiles.run(conn, "ledger/create_schema", identifiers={"schema": target.schema})
    if sqlfiles.run(conn, "ledger/exists"):
        return False
    sqlfiles.run(conn, "ledger/create")
    return True


def record_applied(conn: psycopg.Connection[Any], migrations: Iterable[Migration]) -> int:
    """Insert a `resolve --applied` row (logs '', started_at = finished_at = now(), no steps) for
    each migration, as Prisma's resolve and LiteLLM's baseline write them."""
    rows = [{"id": uuids.v4(), "checksum": m.checksum, "name": m.name} for m in migrations]
    return sqlfiles.run_many(conn, "ledger/insert_resolved", rows)


# Why an unfinished row may be closed rather than block deploy (see `recovery`).
FINISH, REBUILD = "finish", "rebuild"


def recovery(row: LedgerRow, migration: Migration) -> str | None:
    """FINISH for a row Prisma left after its script succeeded (one step applied, no logs, the same
    file): only `finished_at` is missing, exactly what LiteLLM's migration_recovery proves.
    REBUILD for an interrupted run of a file made only of CREATE INDEX CONCURRENTLY (no error was
    logged): running it again after dropping its INVALID indexes is safe. None otherwise."""
    if not row.failed or (row.logs or "").strip() or not checksum_matches(row.checksum, migration):
        return None
    if row.applied_steps_count == 1:
        return FINISH
    if row.applied_steps_count == 0 and migration.concurrent_indexes:
        return REBUILD
    return None


# -- status -------------------------------------------------------------------------------------

APPLIED, PENDING, FAILED, ROLLED_BACK, MODIFIED, DB_ONLY = (
    "applied", "pending", "failed", "rolled back", "modified", "only in database",
)
_SUMMARY_ORDER = (APPLIED, PENDING, ROLLED_BACK, FAILED, MODIFIED, DB_ONLY)


@dataclass(frozen=True)
class MigrationState:
    name: str
    state: str
    applied_at: datetime | None = None
    detail: str = ""


@dataclass(frozen=True)
class Status:
    source: str
    ledger_exists: bool
    migrations: tuple[MigrationState, ...]
    needs_baseline: bool = False  # no ledger, yet the schema has tables (Prisma's P3005)

    def named(self, state: str) -> list[MigrationState]:
        return [m for m in self.migrations if m.state == state]

    @property
    def pending(self) -> list[MigrationState]:
        """What deploy would act on, in order (rolled-back migrations run again)."""
        return [m for m in self.migrations if m.state in (PENDING, ROLLED_BACK)]

    @property
    def problems(self) -> list[MigrationState]:
        return [m for m in self.migrations if m.state in (FAILED, MODIFIED)]

    @property
    def up_to_date(self) -> bool:
        """Every migration applied as its file is now, and nothing else in the ledger."""
        return self.ledger_exists and all(m.state == APPLIED for m in self.migrations)

    @property
    def exit_code(self) -> int:
        """4 failed, modified or baseline needed; 3 pending; 0 up to date."""
        if self.problems or self.needs_baseline:
            return int(ExitCode.INTEGRITY)
        return int(ExitCode.PENDING) if self.pending else int(ExitCode.OK)

    def as_json(self) -> dict[str, object]:
        """The stable JSON shape of `migrate status` (datetimes left for the caller to render)."""
        counts: dict[str, int] = {}
        for migration in self.migrations:
            counts[migration.state] = counts.get(migration.state, 0) + 1
        return {"source": self.source, "ledger_exists": self.ledger_exists, "needs_baseline": self.needs_baseline,
                "summary": self.summary(), "counts": counts,
                "migrations": [{"name": m.name, "state": m.state, "applied_at": m.applied_at, "detail": m.detail}
                               for m in self.migrations]}

    def summary(self) -> str:
        """`220 migrations (litellm-proxy-extras 0.4.110): 218 applied, 2 pending`."""
        parts = [f"{count} {state}" for state in _SUMMARY_ORDER if (count := len(self.named(state)))]
        head = f"{len(self.migrations)} migrations ({self.source})"
        if self.needs_baseline:
            head += ", tables but no ledger: run `dbctl migrate baseline`"
        elif not self.ledger_exists:
            head += ", no ledger yet"
        return head + ": " + (", ".join(parts) if parts else "none")


def status(conn: psycopg.Connection[Any], source: Source) -> Status:
    """Every migration's state: from the files on disk and the ledger rows."""
    rows = read_ledger(conn)
    needs_baseline = rows is None and bool(sqlfiles.run(conn, "db/user_tables"))
    return evaluate(source, rows, needs_baseline=needs_baseline)


def evaluate(source: Source, rows: list[LedgerRow] | None, *, needs_baseline: bool = False) -> Status:
    """The status from ledger rows already read (None: no ledger). No database access."""
    by_name: dict[str, list[LedgerRow]] = {}
    for row in rows or []:
        by_name.setdefault(row.migration_name, []).append(row)
    states = [_state(migration, by_name.pop(migration.name, [])) for migration in source.migrations]
    for name in sorted(by_name):
        applied = [r for r in by_name[name] if r.applied]
        states.append(MigrationState(name, DB_ONLY, applied[-1].finished_at if applied else None,
                                     "in the ledger, not in the migrations directory"))
    states.sort(key=lambda s: s.name)
    return Status(source.label, rows is not None, tuple(states), needs_baseline)


def _state(migration: Migration, rows: list[LedgerRow]) -> MigrationState:
    failed = [r for r in rows if r.failed]
    if failed:
        kinds = {recovery(r, migration) for r in failed}
        if kinds == {FINISH}:
            return MigrationState(migration.name, PENDING, None,
                                  "its script succeeded but the run was cut off; deploy records it applied")
        if kinds <= {FINISH, REBUILD}:
            return MigrationState(migration.name, PENDING, None,
                                  "an interrupted CREATE INDEX CONCURRENTLY; deploy builds it again")
        return MigrationState(migration.name, FAILED, None, _first_log_line(failed[-1].logs) or "no logs")
    applied = [r for r in rows if r.applied]
    if applied:
        row = applied[-1]
        if not checksum_matches(row.checksum, migration):
            return MigrationState(migration.name, MODIFIED, row.finished_at,
                                  f"file checksum {migration.checksum[:12]}… != applied {row.checksum[:12]}…")
        return MigrationState(migration.name, APPLIED, row.finished_at)
    if rows:
        return MigrationState(migration.name, ROLLED_BACK, None, "rolled back; deploy applies it again")
    return MigrationState(migration.name, PENDING)


def _first_log_line(logs: str | None) -> str:
    lines = [line for line in (logs or "").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or [""])[0][:200]
