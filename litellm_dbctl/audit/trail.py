"""LiteLLM_AuditLog rows in LiteLLM's shape (litellm-database.md §4.6).

`action` is one of LiteLLM's (created, updated, deleted, blocked, unblocked, rotated), `table_name` the
LiteLLM table, `object_id` the row's id (a key's is its token hash), `before_value` /
`updated_values` JSON objects, `changed_by` the actor (`--actor`, default `dbctl`). A raw key never
appears in an audit row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import uuids
from litellm_dbctl.db import bulk

if TYPE_CHECKING:
    import psycopg

ACTIONS = ("created", "updated", "deleted", "blocked", "unblocked", "rotated")


def row(action: str, table: str, object_id: str, before: Any, after: Any) -> dict[str, Any]:
    """An audit row; `before`/`after` are copied (shallowly) as they are now."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return {"id": uuids.v4(), "action": action, "table_name": table, "object_id": object_id,
            "before_value": dict(before) if isinstance(before, Mapping) else before,
            "updated_values": dict(after) if isinstance(after, Mapping) else after}


def write(conn: psycopg.Connection, rows: Sequence[Mapping[str, Any]], *, actor: str, now: datetime) -> int:
    """Insert audit rows (from `row`) with COPY; returns how many."""
    return bulk.write(conn, "audit/copy_in", rows, now=now, actor=actor)
