"""JSON text as dbctl writes it into the database: UTF-8 (not ASCII escapes), timestamps in ISO 8601.

One encoder for the JSON columns of bulk writes and the audit rows' before/after values.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_default)  # made once: json.dumps with options makes one a call


def dumps(value: Any) -> str:
    """`value` as JSON text; sets and tuples become arrays."""
    return _ENCODER.encode(value)
