"""LiteLLM's Prisma migrations, applied with no Node and no Prisma, on Prisma's own ledger.

The ledger (`_prisma_migrations`) is read and written as Prisma's schema engine does, so Prisma,
LiteLLM's start-up and dbctl can take turns on one database. Where dbctl is stronger than Prisma:
a transactional migration and its ledger rows commit together (a crash leaves either nothing or a
finished row, never a "failed" row for a migration that did apply); applied files are verified
against their checksums before anything new runs; a statement that hits lock_timeout is retried;
and two kinds of unfinished rows that are provably safe are closed instead of blocking every later
deploy: a row Prisma left after its script succeeded (the proof LiteLLM's own recovery uses), and
an interrupted `CREATE INDEX CONCURRENTLY` file (its INVALID index is dropped and built again).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from litellm_dbctl.common import uuids
from litellm_dbctl.common.errors import ExitCode, IntegrityError, InvalidInput, LockBusy, OperationalError
from litellm_dbctl.common.redaction import redact
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.db.config import Target
from litellm_dbctl.migrate import packaged

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.migrate import sqltext

log = logging.getLogger("dbctl")

PRISMA_LOCK_KEY = 72707369  # Prisma's schema-engine advisory lock (LiteLLM takes it too)
COORDINATOR_LOCK_KEY = 7812739710205912882  # int.from_bytes(b"llm_mig2", "big"): LiteLLM v2 resolver
PACKAGE = packaged.PACKAGE
MAX_NAME_BYTES = 200  # Prisma's P3010
PROVIDERS = ("postgresql", "postgres")  # what migration_lock.toml may say for PostgreSQL
_CONCURRENT_INDEX = re.compile(
    r'^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>"(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s+ON\b',
    re.I,
)


# -- the migrations on disk ---------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    """One migration directory: its script and checksum; statements are split only when asked
    (deploy needs them for what is pending, lint for what it lints)."""

    name: str
    path: Path
    sql: str = field(repr=False)
    checksum: str  # lowercase hex SHA-256 of the file's bytes, as Prisma stores it

    @cached_property
    def statements(self) -> list[sqltext.Statement]:
        from litellm_dbctl.migrate import sqltext  # only deploy and lint split scripts

        return sqltext.split(self.sql)

    @cached_property
    def transactional(self) -> bool:
        """False for a lone CREATE INDEX CONCURRENTLY and the like: Prisma sends those with no
        transaction block around them, and so does dbctl."""
        from litellm_dbctl.migrate import sqltext

        return not sqltext.needs_no_transaction(self.statements)

    @cached_property
    def concurrent_indexes(self) -> tuple[str, ...] | None:
        """The index names when every statement is a CREATE INDEX CONCURRENTLY, else None: such a
        file is safe to run again once its INVALID leftovers are dropped."""
        names = []
        for statement in self.statements:
            match = _CONCURRENT_INDEX.match(statement.text)
            if match is None:
                return None
            name = match["name"]
            names.append(name[1:-1].replace('""', '"') if name.startswith('"') else name.lower())
        return tuple(names) or None


@dataclass(frozen=True)
class Source:
    directory: Path
    label: str  # "litellm-proxy-extras 0.4.110" or the directory
    migrations: tuple[Migration, ...]

    def names(self) -> list[str]:
        return [m.name for m in self.migrations]

    def find(self, name: str) -> Migration | None:
        return next((m for m in self.migrations if m.name == name), None)

    def get(self, name: str) -> Migration:
        migration = self.find(name)
        if migration is None:
            raise InvalidInput(f"no migration named {name!r} in {self.label} (Prisma's P3017)")
        return migration

    def up_to(self, name: str) -> Source:
        """The source truncated after migration `name` (for `--to` and older schemas)."""
        self.get(name)
        kept = tuple(m for m in self.migrations if m.name <= name)
        return Source(self.directory, f"{self.label} up to {name}", kept)

    def only(self, names: Iterable[str], label: str) -> Source:
        wanted = set(names)
        return Source(self.directory, label, tuple(m for m in self.migrations if m.name in wanted))


def load_source(directory: Path | None = None) -> Source:
    """Read a Prisma-layout migrations directory (default: the installed litellm-proxy-extras):
    one `<name>/migration.sql` per migration, ordered by the full directory name as Prisma orders
    them, and `migration_lock.toml`, whose provider must be PostgreSQL (Prisma's P3019)."""
    if directory is None:
        directory, release = packaged.directory()
        label = f"{PACKAGE} {release}"
    else:
        label = str(directory)
    if not directory.is_dir():
        raise InvalidInput(f"migrations directory not found: {directory}")
    lock = directory / "migration_lock.toml"
    if lock.exists():
        match = re.search(r'^\s*provider\s*=\s*"([^"]*)"', lock.read_text(encoding="utf-8"), re.M)
        if match and match.group(1) not in PROVIDERS:
            raise InvalidInput(f"{lock}: provider is {match.group(1)!r}; dbctl applies only postgresql "
                               "migrations (Prisma's P3019)")
    migrations = []
    for child in sorted((p for p in directory.iterdir() if p.is_dir()), key=lambda p: p.name):
        if len(child.name.encode()) > MAX_NAME_BYTES:
            raise InvalidInput(f"{child}: a migration name longer than {MAX_NAME_BYTES} bytes (Prisma's P3010)")
        script = child / "migration.sql"
        try:
            data = script.read_bytes()
        except FileNotFoundError:
            raise InvalidInput(f"{child}: a migration directory without migration.sql (Prisma's P3015)") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{script}: not UTF-8 text") from None
        migrations.append(Migration(child.name, script, text, hashlib.sha256(data).hexdigest()))
    return Source(directory, label, tuple(migrations))


def checksum_matches(stored: str, migration: Migration) -> bool:
    """Prisma's comparison: the script as it is, with CRLF turned into LF, or with LF turned into
    CRLF; a stored value that is not 64 characters is compared with the unpadded hex rendering old
    schema engines wrote (prisma-engines#1887)."""
    if stored == migration.checksum:
        return True
    script = migration.sql
    for variant in (script, script.replace("\r\n", "\n"), script.replace("\n", "\r\n")):
        digest = hashlib.sha256(variant.encode()).digest()
        rendered = digest.hex() if not stored or len(stored) == 64 else "".join(f"{b:x}" for b in digest)
        if rendered == stored:
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


def ensure_ledger(conn: psycopg.Connection, target: Target) -> bool:
    """Create the `?schema=` schema (as Prisma does) and the ledger if missing; True when created."""
    if target.schema and sqlfiles.run(conn, "ledger/current_schema") is None:
        sqlfiles.run(conn, "ledger/create_schema", identifiers={"schema": target.schema})
    if sqlfiles.run(conn, "ledger/exists"):
        return False
    sqlfiles.run(conn, "ledger/create")
    return True


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
        from litellm_dbctl.migrate.statusline import summary

        counts = {s: len(self.named(s)) for s in (APPLIED, PENDING, ROLLED_BACK, FAILED, MODIFIED, DB_ONLY)}
        return summary(len(self.migrations), self.source, counts, ledger_exists=self.ledger_exists,
                       needs_baseline=self.needs_baseline)


def status(conn: psycopg.Connection, source: Source) -> Status:
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


# -- locks --------------------------------------------------------------------------------------


@contextmanager
def migration_locks(conn: psycopg.Connection, *, timeout: float, what: str) -> Iterator[None]:
    """LiteLLM's coordinator key, then Prisma's advisory key (LiteLLM's order), both polled (never a
    blocking pg_advisory_lock) and held as session locks until the block ends. Prisma, LiteLLM's
    resolver and its request-log index builder each take one of them, so none can race a ledger
    change or a migration."""
    from litellm_dbctl.db import database

    deadline = time.monotonic() + timeout
    with database.advisory_lock(conn, COORDINATOR_LOCK_KEY, timeout=timeout, what=what), \
         database.advisory_lock(conn, PRISMA_LOCK_KEY, timeout=max(deadline - time.monotonic(), 0.0), what=what):
        yield


def connect_for_migrations(target: Target, command: str, lock_timeout: str = "10s") -> psycopg.Connection:
    """An autocommit connection: each file runs as Prisma sends it, or in dbctl's own transaction."""
    from litellm_dbctl.db import database

    return database.connect(target, command=command, autocommit=True, lock_timeout=lock_timeout)


# -- deploy -------------------------------------------------------------------------------------


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
    progress: Progress | None = None,
) -> DeployResult:
    """Apply pending migrations in name order under Prisma's and LiteLLM's advisory locks.

    Refuses (IntegrityError) while a migration is failed, or an applied file was modified unless
    `allow_modified`; a database with tables and no ledger needs `baseline` (Prisma's P3005).
    """
    started = time.monotonic()
    if to is not None:
        source.get(to)
    with connect_for_migrations(target, "migrate deploy", statement_lock_timeout) as conn, \
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


def _finish_prisma_rows(conn: psycopg.Connection, migration: Migration) -> None:
    """Set finished_at on the rows `recovery` proved complete (LiteLLM's migration_recovery)."""
    sqlfiles.run(conn, "ledger/finish_completed", {"name": migration.name})
    log.info("%s: its script had succeeded before the run was cut off; recorded it applied", migration.name)


def apply_one(conn: psycopg.Connection, migration: Migration) -> None:
    """Run one migration and record it. Lock timeouts and deadlocks are retried with backoff; when
    they persist the attempt is recorded failed *and* rolled back (nothing of it stayed) and
    LockBusy (exit 5) says to retry later. Any other error leaves Prisma's failed row."""
    import psycopg

    from litellm_dbctl.db import database

    runner = _run_in_transaction if migration.transactional else _run_outside_transaction
    started_at = datetime.now().astimezone()
    try:
        database.retry(lambda: runner(conn, migration), what=f"migration {migration.name}",
                       on_retry=lambda exc, n: log.info("%s: %s; retrying (%d)", migration.name,
                                                        type(exc).__name__, n))
    except OperationalError as exc:  # lock timeouts or deadlocks on every attempt
        _record_failure(conn, migration, exc.message, started_at, rolled_back=True)
        raise LockBusy(f"migration {migration.name} kept waiting for locks held by other sessions; nothing of "
                       "it was applied", hint="retry when the database is quieter, or raise "
                       "--statement-lock-timeout") from None
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
        _record_failure(conn, migration, prisma_logs(exc, migration), started_at, rolled_back=False)
        raise _failed(migration, exc) from None


def _run_in_transaction(conn: psycopg.Connection, migration: Migration) -> None:
    """The file and its ledger row commit together, or neither does: both go in one simple-protocol
    query string, which PostgreSQL runs as one implicit transaction (as Prisma sends a file), in a
    single round trip. The script comes first, so error positions are positions in the file."""
    from psycopg import ClientCursor

    query = sqlfiles.get("ledger/insert_applied")
    sqlfiles.check_requires(conn, query)
    record = ClientCursor(conn).mogrify(
        query.sql, {"id": uuids.v4(), "checksum": migration.checksum, "name": migration.name})
    conn.execute(f"{migration.sql}\n;\n{record}")


def _run_outside_transaction(conn: psycopg.Connection, migration: Migration) -> None:
    """As Prisma runs it: the started row, the script with no transaction block, then finished.
    An INVALID index an earlier interrupted or timed-out build left is dropped first, since
    `IF NOT EXISTS` would otherwise accept it as built."""
    import psycopg

    for name in migration.concurrent_indexes or ():
        drop_invalid_index(conn, name)
    row_id = uuids.v4()
    sqlfiles.run(conn, "ledger/insert_started", {"id": row_id, "checksum": migration.checksum, "name": migration.name})
    try:
        conn.execute(migration.sql)
    except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as exc:
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


class _Recorded(Exception):
    """A failure whose ledger row is already written (outside a transaction)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def drop_invalid_index(conn: psycopg.Connection, name: str) -> bool:
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


def _record_failure(conn: psycopg.Connection, migration: Migration, logs: str, started_at: datetime, *,
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
    message = diag.message_primary if diag is not None and diag.message_primary else str(error).splitlines()[0]
    code = f" [{diag.sqlstate}]" if diag is not None and diag.sqlstate else ""
    line = _error_line(error, migration)
    where = f" at line {line}" if line else ""
    return OperationalError(
        f"migration {migration.name} failed{where}{code}: {redact(message)}",
        hint="it is recorded as failed (Prisma's P3018); see `dbctl migrate status`, then `dbctl migrate resolve`",
    )


# -- resolve ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolveResult:
    migration: str
    resolved: str  # "applied" | "rolled back"
    rows_rolled_back: int  # failed rows marked rolled back
    created_ledger: bool
    dry_run: bool


def resolve(
    target: Target,
    source: Source,
    *,
    applied: str | None = None,
    rolled_back: str | None = None,
    dry_run: bool = False,
    lock_timeout: float = 60.0,
) -> ResolveResult:
    """Prisma's `migrate resolve`: edit the ledger only, never run or undo SQL; history is kept.

    `applied`: the migration must exist on disk (P3017) and not already be applied (P3008); its
    failed rows are marked rolled back, then a fresh finished row is inserted (logs '',
    started_at = finished_at = now(), the local file's checksum). `rolled_back`: the migration must
    have a row that is not rolled back (P3011) and one of them must be failed (P3012).
    """
    if (applied is None) == (rolled_back is None):
        raise InvalidInput("give exactly one of --applied NAME and --rolled-back NAME")
    name = applied if applied is not None else rolled_back
    assert name is not None
    migration = source.get(name) if applied is not None else None
    with connect_for_migrations(target, "migrate resolve") as conn, \
         migration_locks(conn, timeout=lock_timeout, what="migrate resolve"), \
         conn.transaction(force_rollback=dry_run):
        rows = [r for r in read_ledger(conn) or [] if r.migration_name == name and r.rolled_back_at is None]
        created = False
        if migration is not None:
            if any(r.finished_at is not None for r in rows):
                raise InvalidInput(f"migration {name} is already recorded as applied in the database (Prisma's P3008)")
            created = ensure_ledger(conn, target)
            undone = sqlfiles.run(conn, "ledger/roll_back_failed", {"name": name})
            record_applied(conn, [migration])
            resolved = "applied"
        else:
            if not rows:
                raise InvalidInput(f"migration {name} cannot be rolled back: it was never applied to the "
                                   "database (Prisma's P3011)")
            if all(r.finished_at is not None for r in rows):
                raise InvalidInput(f"migration {name} cannot be rolled back: it is not in a failed state "
                                   "(Prisma's P3012)")
            undone = sqlfiles.run(conn, "ledger/roll_back_failed", {"name": name})
            resolved = "rolled back"
        sqlfiles.forget_ledger(conn)
    return ResolveResult(name, resolved, undone, created, dry_run)


def record_applied(conn: psycopg.Connection, migrations: Iterable[Migration]) -> int:
    """Insert a `resolve --applied` row (logs '', started_at = finished_at = now(), no steps) for
    each migration, as Prisma's resolve and LiteLLM's baseline write them."""
    rows = [{"id": uuids.v4(), "checksum": m.checksum, "name": m.name} for m in migrations]
    return sqlfiles.run_many(conn, "ledger/insert_resolved", rows)
