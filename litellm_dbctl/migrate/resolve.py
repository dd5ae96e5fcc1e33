"""`migrate resolve`: Prisma's ledger edit for a failed migration, never running or undoing SQL."""

from __future__ import annotations

from dataclasses import dataclass

from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.db.config import Target
from litellm_dbctl.migrate.ledger import ensure_ledger, read_ledger, record_applied
from litellm_dbctl.migrate.locks import connect_for_migrations, migration_locks
from litellm_dbctl.migrate.source import Source


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
