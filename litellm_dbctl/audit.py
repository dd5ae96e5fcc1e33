"""LiteLLM_AuditLog rows in LiteLLM's shape (litellm-database.md §4.6).

`action` is one of LiteLLM's (created, updated, deleted, blocked, unblocked), `table_name` the
LiteLLM table, `object_id` the row's id (a key's is its token hash), `before_value` /
`updated_values` JSON objects, `changed_by` the actor (`--actor`, default `dbctl`). A raw key never
appears in an audit row.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    import psycopg

ACTIONS = ("created", "updated", "deleted", "blocked", "unblocked")


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def encode(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as the JSON array the bulk statements read with jsonb_to_recordset."""
    return json.dumps([jsonable(dict(r)) for r in rows], ensure_ascii=False, default=str)


def row(action: str, table: str, object_id: str, before: Any, after: Any) -> dict[str, Any]:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return {"id": str(uuid.uuid4()), "action": action, "table_name": table, "object_id": object_id,
            "before_value": jsonable(before) if before is not None else None,
            "updated_values": jsonable(after) if after is not None else None}


def write(conn: psycopg.Connection, rows: Sequence[Mapping[str, Any]], *, actor: str, now: datetime) -> int:
    from litellm_dbctl import bulk

    return bulk.write(conn, "audit/copy_in", rows, now=now, actor=actor)
