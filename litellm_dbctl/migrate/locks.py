"""How every migration command holds the database: an autocommit connection under the advisory
locks Prisma and LiteLLM take, so none of them can race a ledger change or a migration."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from litellm_dbctl.db import database
from litellm_dbctl.db.config import Target

if TYPE_CHECKING:
    import psycopg

PRISMA_LOCK_KEY = 72707369  # Prisma's schema-engine advisory lock (LiteLLM takes it too)
COORDINATOR_LOCK_KEY = 7812739710205912882  # int.from_bytes(b"llm_mig2", "big"): LiteLLM v2 resolver


@contextmanager
def migration_locks(conn: psycopg.Connection[Any], *, timeout: float, what: str) -> Iterator[None]:
    """LiteLLM's coordinator key, then Prisma's advisory key (LiteLLM's order), both polled (never a
    blocking pg_advisory_lock) within one `timeout` and held as session locks until the block ends.
    Prisma, LiteLLM's resolver and its request-log index builder each take one of them."""
    deadline = time.monotonic() + timeout
    with database.advisory_lock(conn, COORDINATOR_LOCK_KEY, timeout=timeout, what=what), \
         database.advisory_lock(conn, PRISMA_LOCK_KEY, timeout=max(deadline - time.monotonic(), 0.0), what=what):
        yield


def connect_for_migrations(target: Target, command: str, lock_timeout: str = "10s",
                           statement_timeout: str | None = None) -> psycopg.Connection[Any]:
    """An autocommit connection: each file runs as Prisma sends it, or in dbctl's own transaction."""
    return database.connect(target, command=command, autocommit=True, lock_timeout=lock_timeout,
                            statement_timeout=statement_timeout)
