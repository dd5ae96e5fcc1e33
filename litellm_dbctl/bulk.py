"""Bulk writes from rows as dicts: COPY for new rows, jsonb_to_recordset for everything else.

A write query is either `COPY "Table" (columns) FROM STDIN` (inserts: the fastest path, ~2.5x an
`INSERT ... SELECT FROM unnest`) or a statement reading `jsonb_to_recordset(%(rows)s::jsonb)`
(updates, deletes, upserts). The COPY column list in the query file is the single source of the
column order; bookkeeping columns a row does not carry (created_at, created_by, spend, ...) are
filled here the way LiteLLM fills them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from litellm_dbctl import audit, sqlfiles

if TYPE_CHECKING:
    import psycopg

COPY_COLUMNS = re.compile(r'^\s*COPY\s+"?[\w.]+"?\s*\((?P<columns>[^)]*)\)\s*FROM\s+STDIN', re.I)
JSON_COLUMNS = frozenset({"metadata", "members_with_roles", "before_value", "updated_values"})


def copy_columns(name: str) -> list[str] | None:
    """The column order of a COPY query, or None for a jsonb_to_recordset statement."""
    match = COPY_COLUMNS.match(sqlfiles.get(name).sql)
    return [c.strip().strip('"') for c in match["columns"].split(",")] if match else None


def write(conn: psycopg.Connection, name: str, rows: Sequence[Mapping[str, Any]], *, now: datetime,
          actor: str) -> int:
    """Write `rows` with query `name`; returns the rows affected (all of them, for COPY)."""
    if not rows:
        return 0
    columns = copy_columns(name)
    if columns is None:
        params: dict[str, Any] = {"rows": audit.encode(rows)}
        query = sqlfiles.get(name)
        if "now" in query.params:
            params["now"] = now
        if "actor" in query.params:
            params["actor"] = actor
        return int(sqlfiles.run(conn, name, params))
    from psycopg.types.json import Jsonb

    fills = {"created_at": now, "updated_at": now, "created_by": actor, "updated_by": actor, "changed_by": actor,
             "changed_by_api_key": "", "spend": 0.0, "admins": [], "members": []}
    json_at = [column in JSON_COLUMNS for column in columns]
    with sqlfiles.copy(conn, name) as copy:
        for row in rows:
            values = [row[c] if c in row else fills.get(c) for c in columns]
            copy.write_row([Jsonb(v) if is_json and v is not None else v for v, is_json in zip(values, json_at)])
    return len(rows)
