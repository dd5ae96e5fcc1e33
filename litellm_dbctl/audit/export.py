"""`dbctl audit export`: every matching audit row, streamed as JSON lines or CSV in flat memory.

The rows come through a server-side cursor (audit/read.stream) rather than a server-rendered COPY,
because each before/after value is decoded first (LiteLLM stores JSON text inside a JSON string)
and any raw key in it hidden, which only Python can do safely for every row a proxy wrote.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, Any

from litellm_dbctl.audit.read import AuditRow
from litellm_dbctl.common.errors import InvalidInput

FORMATS = ("jsonl", "csv")
COLUMNS = ("id", "updated_at", "action", "table_name", "object_id", "object_name", "changed_by",
           "changed_by_api_key", "before_value", "updated_values", "changed_fields")


@dataclass(frozen=True)
class Exported:
    rows: int


def record(row: AuditRow) -> dict[str, Any]:
    """One row as JSON output shows it (times ISO 8601 UTC, the changed fields' names listed)."""
    return {"id": row.id, "updated_at": _iso(row.updated_at), "action": row.action, "table_name": row.table_name,
            "object_id": row.object_id, "object_name": row.object_name, "changed_by": row.changed_by,
            "changed_by_api_key": row.changed_by_api_key, "before_value": row.before_value,
            "updated_values": row.updated_values, "changed_fields": list(row.changes)}


def _iso(moment: datetime) -> str:
    """A stored time (naive UTC, as LiteLLM writes it) as ISO 8601 with its offset."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def write(out: IO[str], rows: Iterable[AuditRow], fmt: str) -> Exported:
    """Write `rows` to `out` as `fmt` (jsonl: one object a line; csv: a header, JSON values as JSON
    text, the changed fields comma-separated)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(FORMATS)}, not {fmt[:40]!r}")
    count = 0
    if fmt == "jsonl":
        for row in rows:
            out.write(json_text(record(row)) + "\n")
            count += 1
        return Exported(count)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(k, v) for k, v in record(row).items()])
        count += 1
    return Exported(count)


def _cell(name: str, value: Any) -> Any:
    if name == "changed_fields":
        return ",".join(value)
    if isinstance(value, (Mapping, list)) or (name in ("before_value", "updated_values") and value is not None):
        return json_text(value)
    return "" if value is None else value
