"""Spend-log rows as `dbctl spend logs` shows them: the newest matching requests, or one by id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import durations
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.common.periods import Period
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.spend.names import Filters, Label, labels_many, resolve

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class LogRow:
    request_id: str
    litellm_call_id: str | None
    start_time: datetime  # aware, UTC
    end_time: datetime
    request_duration_ms: int | None
    call_type: str
    key: Label
    user: Label
    team: Label
    org: Label
    end_user: Label
    agent: Label
    model: str
    model_group: str | None
    provider: str
    spend: float
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    status: str
    error_class: str | None
    error_message: str | None
    internal_call_origin: str | None
    billed_retry: bool
    tags: Any
    session_id: str | None
    cache_hit: str | None
    messages: Any = None
    response: Any = None


def recent(conn: psycopg.Connection, period: Period | None, filters: Filters, *, request_id: str | None = None,
           limit: int = 20, show_payload: bool = False) -> tuple[LogRow, ...]:
    """The newest spend-log rows matching the filters (period None: any time), or one request by id."""
    if limit < 1:
        raise InvalidInput("--limit must be at least 1")
    resolved = resolve(conn, filters)
    rows = sqlfiles.run(conn, "spend/logs_recent", {
        "request_id": request_id, "limit": limit, "show_payload": show_payload,
        "since": durations.utc_naive(period.since) if period and period.since else None,
        "until": durations.utc_naive(period.until) if period else None, **resolved.params(),
    })
    columns = {"key": "api_key", "user": "user_id", "team": "team_id", "org": "organization_id",
               "end-user": "end_user", "agent": "agent_id"}
    labels = labels_many(conn, {kind: [r[column] for r in rows] for kind, column in columns.items()})
    return tuple(
        LogRow(
            request_id=r["request_id"], litellm_call_id=r["litellm_call_id"],
            start_time=r["start_time"].replace(tzinfo=timezone.utc), end_time=r["end_time"].replace(tzinfo=timezone.utc),
            request_duration_ms=r["request_duration_ms"], call_type=r["call_type"],
            **{kind.replace("-", "_"): labels[kind][r[column]] for kind, column in columns.items()},
            model=r["model"], model_group=r["model_group"], provider=r["custom_llm_provider"], spend=r["spend"],
            prompt_tokens=r["prompt_tokens"], completion_tokens=r["completion_tokens"],
            total_tokens=r["total_tokens"], status=r["status"], error_class=r["error_class"],
            error_message=r["error_message"], internal_call_origin=r["internal_call_origin"],
            billed_retry=r["billed_retry"], tags=r["request_tags"], session_id=r["session_id"],
            cache_hit=r["cache_hit"], messages=r["messages"], response=r["response"],
        )
        for r in rows
    )
