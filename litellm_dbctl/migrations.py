"""LiteLLM's Prisma migrations, applied with no Node and no Prisma, on Prisma's own ledger.

The ledger (`_prisma_migrations`) is read and written as Prisma's schema engine does, so Prisma,
LiteLLM's start-up and dbctl can take turns on one database. Two things are stronger than Prisma:
a transactional migration and its ledger rows commit together (a crash leaves either nothing or a
finished row, never a "failed" row for a migration that did apply), and applied files are verified
against their checksums before anything new runs.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from litellm_dbctl import database, sqlfiles, sqltext
from litellm_dbctl.config import Target, redact
from litellm_dbctl.errors import IntegrityError, InvalidInput, OperationalError

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("dbctl")

PRISMA_LOCK_KEY = 72707369  # Prisma's schema-engine advisory lock (LiteLLM takes it too)
COORDINATOR_LOCK_KEY = 7812739710205912882  # int.from_bytes(b"llm_mig2", "big"): LiteLLM v2 resolver
PACKAGE = "litellm-proxy-extras"
NAME = re.compile(r"^\d{14}_[A-Za-z0-9_]+$")


# -- the migrations on disk ---------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    """One migration directory. Its file is read, hashed and split only when asked: `db status`
    needs just the names, `migrate status` the checksums, `deploy` the statements of what is pending."""

    name: str
    path: Path  # the migration.sql file

    @cached_property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def sql(self) -> str:
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{self.path}: not UTF-8 text") from None

    @cached_property
    def checksum(self) -> str:
        """Lowercase hex SHA-256 of the file's bytes, as Prisma stores it."""
        return hashlib.sha256(self.data).hexdigest()

    @cached_property
    def transactional(self) -> bool:
        """False for a lone CREATE INDEX CONCURRENTLY and the like: they run outside a transaction."""
        return not sqltext.needs_no_transaction(sqltext.split(self.sql))


@dataclass(frozen=True)
class Source:
    directory: Path
    label: str  # "litellm-proxy-extras 0.4.110" or the directory
    migrations: tuple[Migration, ...]

    def names(self) -> list[str]:
        return [m.name for m in self.migrations]

    def get(self, name: str) -> Migration:
        for migration in self.migrations:
            if migration.name == name:
                return migration
        raise InvalidInput(f"no migration named {name!r} in {self.label}")

    def up_to(self, name: str) -> Source:
        """The source truncated after migration `name` (for `--to` and older schemas)."""
        self.get(name)
        kept = tuple(m for m in self.migrations if m.name <= name)
        return Source(self.directory, f"{self.label} up to {name}", kept)


def packaged_directory() -> tuple[Path, str]:
    """The migrations shipped in the installed litellm-proxy-extras, and its version."""
    from importlib.util import find_spec

    spec = find_spec("litellm_proxy_extras")
    if spec is None or not spec.submodule_search_locations:
        raise OperationalError(f"{PACKAGE} is not installed; pass --migrations-dir")
    package = Path(next(iter(spec.submodule_search_locations)))
    # The dist-info directory names the version without importing importlib.metadata (~15 ms).
    found = sorted(package.parent.glob("litellm_proxy_extras-*.dist-info"))
    release = found[-1].name[len("litellm_proxy_extras-"):-len(".dist-info")] if found else "unknown"
    return package / "migrations", release


def load_source(directory: Path | None = None) -> Source:
    """Read a Prisma-layout migrations directory (default: the installed litellm-proxy-extras)."""
    if directory is None:
        directory, release = packaged_directory()
        label = f"{PACKAGE} {release}"
    else:
        label = str(directory)
    if not directory.is_dir():
        raise InvalidInput(f"migrations directory not found: {directory}")
    lock = directory / "migration_lock.toml"
    if lock.exists():
        match = re.search(r'^\s*provider\s*=\s*"([^"]*)"', lock.read_text(), re.M)
        if match and match.group(1) != "postgresql":
            raise InvalidInput(f"{lock}: provider is {match.group(1)!r}, dbctl applies only postgresql")
    migrations = []
    for child in sorted(p for p in directory.iterdir() if p.is_dir()):
        script = child / "migration.sql"
        if not script.is_file():
            raise InvalidInput(f"{child}: a migration directory without migration.sql")
        migrations.append(Migration(child.name, script))
    return Source(directory, label, tuple(migrations))


def checksum_matches(stored: str, migration: Migration) -> bool:
    """Prisma's tolerance: the file as-is, CRLF->LF, LF->CRLF; unpadded hex from old engines."""
    raw = migration.data
    variants = {raw, raw.replace(b"\r\n", b"\n"), raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")}
    for data in variants:
        digest = hashlib.sha256(data).digest()
        if stored == digest.hex() or (len(stored) != 64 and stored == "".join(f"{b:x}" for b in digest)):
            return True
    return False


# -- the ledger ---------------------------------------------------------------------------------


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


def read_ledger(conn: psycopg.Connection) -> list[LedgerRow] | None:
    """All ledger rows, or None when the ledger table does not exist."""
    if not sqlfiles.run(conn, "ledger/exists"):
        return None
    return sqlfiles.run(conn, "ledger/rows", row_type=LedgerRow)


# -- status -------------------------------------------------------------------------------------

APPLIED, PENDING, FAILED, ROLLED_BACK, MODIFIED, DB_ONLY = (
    "applied", "pending", "failed", "rolled back", "modified", "only in database",
)


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

    def named(self, state: str) -> list[MigrationState]:
        return [m for m in self.migrations if m.state == state]

    @property
    def pending(self) -> list[MigrationState]:
        return [m for m in self.migrations if m.state in (PENDING, ROLLED_BACK)]

    @property
    def problems(self) -> list[MigrationState]:
        return [m for m in self.migrations if m.state in (FAILED, MODIFIED)]

    def summary(self) -> str:
        counts = {s: len(self.named(s)) for s in (APPLIED, PENDING, ROLLED_BACK, FAILED, MODIFIED, DB_ONLY)}
        parts = [f"{n} {s}" for s, n in counts.items() if n]
        head = f"{len(self.migrations)} migrations ({self.source})"
        if not self.ledger_exists:
            head += ", no ledger in the database"
        return head + ": " + (", ".join(parts) if parts else "none")


def status(conn: psycopg.Connection, source: Source) -> Status:
    """Every migration's state: from the files on disk and the ledger rows."""
    rows = read_ledger(conn)
    by_name: dict[str, list[LedgerRow]] = {}
    for row in rows or []:
        by_name.setdefault(row.migration_name, []).append(row)
    states: list[MigrationState] = []
    for migration in source.migrations:
        states.append(_state(migration, by_name.pop(migration.name, [])))
    for name in sorted(by_name):
        applied = [r for r in by_name[name] if r.applied]
        states.append(MigrationState(name, DB_ONLY, applied[-1].finished_at if applied else None,
                                     "in the ledger, not in the migrations directory"))
    states.sort(key=lambda s: s.name)
    return Status(source.label, rows is not None, tuple(states))


def _state(migration: Migration, rows: list[LedgerRow]) -> MigrationState:
    failed = [r for r in rows if r.failed]
    if failed:
        return MigrationState(migration.name, FAILED, None, _first_log_line(failed[-1].logs))
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


# -- deploy -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeployResult:
    source: str
    pending: tuple[str, ...]  # what was (or, with dry_run, would be) applied, in order
    applied: tuple[str, ...]
    seconds: float
    created_ledger: bool


Progress = Callable[[int, int, Migration], None]


def connect_for_migrations(target: Target, command: str, lock_timeout: str = "10s") -> psycopg.Connection:
    """An autocommit connection: each file runs as Prisma sends it (one implicit transaction)."""
    return database.connect(target, command=command, autocommit=True, lock_timeout=lock_timeout)


def deploy(
    target: Target,
    source: Source,
    *,
    to: str | None = None,
    dry_run: bool = False,
    allow_modified: bool = False,
    lock_timeout: float = 60.0,
    statement_lock_timeout: str = "10s",
    progress: Progress | None = None,
) -> DeployResult:
    """Apply pending migrations in name order under Prisma's and LiteLLM's advisory locks."""
    started = time.monotonic()
    if to is not None:
        source = source.up_to(to)
    with connect_for_migrations(target, "migrate deploy", statement_lock_timeout) as conn:
        with database.advisory_lock(conn, PRISMA_LOCK_KEY, timeout=lock_timeout, what="migrate deploy"), \
             database.advisory_lock(conn, COORDINATOR_LOCK_KEY, timeout=lock_timeout, what="migrate deploy"):
            created = False
            if not sqlfiles.run(conn, "ledger/exists"):
                if sqlfiles.run(conn, "db/user_tables"):
                    raise IntegrityError(
                        "the schema has tables but no _prisma_migrations ledger (Prisma's P3005)",
                        hint="adopt it with `dbctl migrate baseline`",
                    )
                if not dry_run:
                    sqlfiles.run(conn, "ledger/create")
                    created = True
            current = status(conn, source)
            refuse_problems(current, allow_modified=allow_modified)
            pending = [source.get(m.name) for m in current.pending]
            if dry_run:
                return DeployResult(source.label, tuple(m.name for m in pending), (), time.monotonic() - started, False)
            applied: list[str] = []
            for index, migration in enumerate(pending, 1):
                if progress:
                    progress(index, len(pending), migration)
                apply_one(conn, migration)
                applied.append(migration.name)
            sqlfiles.forget_ledger(conn)
    return DeployResult(source.label, tuple(applied), tuple(applied), time.monotonic() - started, created)


def refuse_problems(current: Status, *, allow_modified: bool) -> None:
    failed = current.named(FAILED)
    if failed:
        names = ", ".join(m.name for m in failed)
        raise IntegrityError(
            f"migration {names} failed in this database ({failed[0].detail or 'no log'}); "
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


def apply_one(conn: psycopg.Connection, migration: Migration) -> None:
    """Run one migration and record it; a lock timeout or deadlock is retried with backoff."""
    import psycopg

    if migration.transactional:
        def attempt() -> None:
            row_id = str(uuid.uuid4())
            with conn.transaction():
                sqlfiles.run(conn, "ledger/insert_started",
                             {"id": row_id, "checksum": migration.checksum, "name": migration.name})
                conn.execute(migration.sql)
                sqlfiles.run(conn, "ledger/mark_applied", {"id": row_id})

        started_at = datetime.now().astimezone()
        try:
            database.retry(attempt, what=f"migration {migration.name}")
        except psycopg.Error as exc:
            sqlfiles.run(conn, "ledger/insert_failed", {
                "id": str(uuid.uuid4()), "checksum": migration.checksum, "name": migration.name,
                "logs": prisma_logs(exc), "started_at": started_at})
            raise _failed(migration, exc) from None
        except OperationalError as exc:
            sqlfiles.run(conn, "ledger/insert_failed", {
                "id": str(uuid.uuid4()), "checksum": migration.checksum, "name": migration.name,
                "logs": exc.message, "started_at": started_at})
            raise
        return
    # Outside a transaction block, exactly as Prisma runs it: started row, script, finish.
    row_id = str(uuid.uuid4())
    sqlfiles.run(conn, "ledger/insert_started", {"id": row_id, "checksum": migration.checksum, "name": migration.name})
    try:
        conn.execute(migration.sql)
    except psycopg.Error as exc:
        sqlfiles.run(conn, "ledger/mark_failed", {"id": row_id, "logs": prisma_logs(exc)})
        raise _failed(migration, exc) from None
    sqlfiles.run(conn, "ledger/mark_applied", {"id": row_id})


def prisma_logs(exc: BaseException) -> str:
    """The ledger `logs` text for a failed migration, shaped like Prisma's P3018 report."""
    diag = getattr(exc, "diag", None)
    code = getattr(diag, "sqlstate", None) or "unknown"
    lines = [f"Database error code: {code}", "", "Database error:", f"ERROR: {diag.message_primary if diag else exc}"]
    if diag is not None and diag.message_detail:
        lines.append(f"DETAIL: {diag.message_detail}")
    if diag is not None and diag.message_hint:
        lines.append(f"HINT: {diag.message_hint}")
    return redact("\n".join(lines))


def _failed(migration: Migration, exc: BaseException) -> OperationalError:
    diag = getattr(exc, "diag", None)
    message = diag.message_primary if diag is not None and diag.message_primary else str(exc).splitlines()[0]
    code = f" [{diag.sqlstate}]" if diag is not None and diag.sqlstate else ""
    return OperationalError(
        f"migration {migration.name} failed{code}: {redact(message)}",
        hint=f"it is recorded as failed; see `dbctl migrate status`, then `dbctl migrate resolve`",
    )


def ensure_names(source: Source, names: Sequence[str]) -> None:
    for name in names:
        source.get(name)
