"""Where a key goes when LiteLLM retires it: `/key/delete` and `/key/regenerate` both copy the whole
row to LiteLLM_DeletedVerificationToken first (persist_deleted_verification_tokens), with when and by
whom. Shared by `key delete`, `key rotate` and `key prune`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg


def archive(conn: psycopg.Connection, tokens: Sequence[str], *, actor: str, now: datetime) -> int:
    """Copy the keys `tokens` to LiteLLM_DeletedVerificationToken (every column the schema has; a
    schema older than the key's newest columns gets the columns it has). How many were copied."""
    if not tokens:
        return 0
    if sqlfiles.supported(conn, "key/archive_many"):
        copied: int = sqlfiles.run(conn, "key/archive_many", {"tokens": list(tokens), "actor": actor, "now": now})
        return copied
    return sum(int(sqlfiles.run(conn, "key/archive", {"token": token, "actor": actor, "now": now}))
               for token in tokens)
