"""LiteLLM's Redis buffers and their entries, decoded as LiteLLM writes them (no I/O here).

With `general_settings.use_redis_transaction_buffer`, every pod RPUSHes what it aggregated since its
last flush into Redis lists, and the pod holding `cronjob_lock:<job>` LPOPs and writes them
(LiteLLM 1.109.1 and 1.110.2 alike: `proxy/db/db_transaction_queue/redis_update_buffer.py`,
`constants.py:480-498`). Each list entry is one JSON document (`safe_dumps`, NaN written as `NaN`):

- `litellm_spend_update_buffer`: one `DBSpendUpdateTransactions`, a `{entity_id: spend}` map per
  `<type>_list_transactions` field (key = token hash, team member = `team_id::T::user_id::U`). No time.
- `litellm_daily_<entity>_spend_update_buffer`: `{transaction_key: {date: "YYYY-MM-DD", spend,
  api_requests, <entity id field>, ...}}`. The date is the only time: an entry is at least as old
  as the end of its UTC day.
- `litellm_window_spend_update_buffer`: a list of `{entity_type, entity_id, window_duration,
  window_start, spend, started_at, request_ids}`; started_at (naive UTC ISO, may be null) is the
  batch's earliest request start.
- `litellm_spend_logs_buffer`: one LiteLLM_SpendLogs row per entry (`SpendLogsPayload`, datetimes in
  ISO), parked when a spend-log write failed (`proxy/utils.py` requeue_spend_logs); startTime dates it.
- `litellm_tool_discovery_buffer` (a list of tool rows with call_count), `litellm_gateway_requests_
  buffer[_v2]` and `litellm_request_errors_buffer` (lists of row tuples, the date first): no spend.

LiteLLM reads a NaN or Infinity spend as 0 (`_load_buffered_transaction`): so does this module.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal

Kind = Literal["counters", "daily", "window", "spend_logs", "tools", "gateway", "gateway_legacy", "errors"]

SPEND_UPDATE_JOB = "db_spend_update_job"
TAG_JOB = "db_daily_tag_spend_update_job"


@dataclass(frozen=True)
class Buffer:
    """One of LiteLLM's Redis lists: its key (without a namespace), what its entries are, which
    entity type a daily buffer counts, and the cron job whose lock holder drains it (None: any pod)."""

    key: str
    kind: Kind
    entity: str | None = None
    job: str | None = None


BUFFERS: tuple[Buffer, ...] = (
    Buffer("litellm_spend_update_buffer", "counters", job=SPEND_UPDATE_JOB),
    Buffer("litellm_daily_spend_update_buffer", "daily", "user", SPEND_UPDATE_JOB),
    Buffer("litellm_daily_team_spend_update_buffer", "daily", "team", SPEND_UPDATE_JOB),
    Buffer("litellm_daily_org_spend_update_buffer", "daily", "org", SPEND_UPDATE_JOB),
    Buffer("litellm_daily_end_user_spend_update_buffer", "daily", "end_user", SPEND_UPDATE_JOB),
    Buffer("litellm_daily_agent_spend_update_buffer", "daily", "agent", SPEND_UPDATE_JOB),
    Buffer("litellm_daily_tag_spend_update_buffer", "daily", "tag", TAG_JOB),
    Buffer("litellm_window_spend_update_buffer", "window", job=SPEND_UPDATE_JOB),
    Buffer("litellm_spend_logs_buffer", "spend_logs"),
    Buffer("litellm_tool_discovery_buffer", "tools", job="tool_discovery_commit_job"),
    Buffer("litellm_gateway_requests_buffer_v2", "gateway", job="update_gateway_requests_job"),
    Buffer("litellm_gateway_requests_buffer", "gateway_legacy", job="update_gateway_requests_job"),
    Buffer("litellm_request_errors_buffer", "errors", job="update_request_errors_job"),
)

# DBSpendUpdateTransactions field -> entity type (dbctl's words), LiteLLM's order.
COUNTER_FIELDS: Mapping[str, str] = {
    "user_list_transactions": "user", "end_user_list_transactions": "end_user", "key_list_transactions": "key",
    "team_list_transactions": "team", "team_member_list_transactions": "team_member",
    "org_list_transactions": "org", "org_member_list_transactions": "org_member",
    "project_list_transactions": "project", "tag_list_transactions": "tag", "agent_list_transactions": "agent",
    "model_access_group_list_transactions": "model_access_group",
}
DAILY_ID_FIELDS: Mapping[str, str] = {"user": "user_id", "team": "team_id", "org": "organization_id",
                                      "end_user": "end_user_id", "agent": "agent_id", "tag": "tag"}
# Litellm_EntityType values a window increment carries -> dbctl's words.
WINDOW_TYPES: Mapping[str, str] = {"organization": "org", "organization_member": "org_member"}
# A spend-log row's column -> the entity type whose counter its spend goes to (tags: request_tags).
LOG_COLUMNS: Mapping[str, str] = {"api_key": "key", "user": "user", "team_id": "team", "organization_id": "org",
                                  "end_user": "end_user"}
DAY = timedelta(days=1)


class BadEntry(ValueError):
    """An entry LiteLLM would not read either (not JSON, or not the shape its buffer holds)."""


@dataclass(frozen=True)
class ParkedLog:
    """A spend-log row parked in Redis: not in LiteLLM_SpendLogs yet. `accounted`: it carries a
    LiteLLM 1.110 accounting payload, so the outbox worker (not the counters' buffer) applies it."""

    request_id: str
    start: datetime | None  # naive UTC
    spend: float
    entities: tuple[tuple[str, str], ...]  # (entity type, id), a tag once per occurrence
    accounted: bool


@dataclass
class Tally:
    """What the entries read so far of one buffer carry (mutable while reading; see buffer.py)."""

    entries: int = 0
    undecodable: int = 0
    requests: int = 0
    spend: dict[str, dict[str, float]] = field(default_factory=dict)  # entity type -> id -> spend
    oldest: datetime | None = None  # aware UTC: the oldest moment an entry is known to be from (or before)
    parked: list[ParkedLog] = field(default_factory=list)

    def add(self, entity_type: str, entity_id: str, amount: float) -> None:
        ids = self.spend.setdefault(entity_type, {})
        ids[entity_id] = ids.get(entity_id, 0.0) + amount

    def seen(self, moment: datetime | None) -> None:
        if moment is not None and (self.oldest is None or moment < self.oldest):
            self.oldest = moment


def load(raw: bytes | str) -> Any:
    """One entry's JSON as LiteLLM reads it: NaN/Infinity as 0 (BadEntry when it is not JSON)."""
    try:
        return json.loads(raw, parse_constant=lambda _: 0.0)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadEntry(f"not JSON: {exc}") from None


def tally(kind: Kind, raw: bytes | str, into: Tally, entity: str | None = None) -> None:
    """Count one entry of a buffer of `kind` into `into`; an entry that does not decode is counted
    as undecodable and changes nothing else."""
    into.entries += 1
    scratch = Tally()
    try:
        _DECODERS[kind](load(raw), scratch, entity)
    except (BadEntry, TypeError, KeyError, AttributeError, ValueError):
        into.undecodable += 1
        return
    into.requests += scratch.requests
    for entity_type, ids in scratch.spend.items():
        for entity_id, amount in ids.items():
            into.add(entity_type, entity_id, amount)
    into.seen(scratch.oldest)
    into.parked.extend(scratch.parked)


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadEntry(f"expected a JSON object, got {type(value).__name__}")
    return value


def _rows(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise BadEntry(f"expected a JSON array, got {type(value).__name__}")
    return value


def spend_of(value: Any) -> float:
    """A spend as LiteLLM sums it: a number (null and non-finite: 0)."""
    if value is None or isinstance(value, bool):
        return 0.0
    if not isinstance(value, (int, float)):
        raise BadEntry(f"spend is not a number: {value!r}")
    number = float(value)
    return number if math.isfinite(number) else 0.0


def _counters(entry: Any, into: Tally, _: str | None) -> None:
    for name, entity_type in COUNTER_FIELDS.items():
        ids = _mapping(entry).get(name) or {}
        for entity_id, amount in _mapping(ids).items():
            into.add(entity_type, str(entity_id), spend_of(amount))


def _daily(entry: Any, into: Tally, entity: str | None) -> None:
    assert entity is not None
    for row in _mapping(entry).values():
        row = _mapping(row)
        into.add(entity, str(row.get(DAILY_ID_FIELDS[entity]) or ""), spend_of(row.get("spend")))
        into.requests += int(row.get("api_requests") or 0)
        into.seen(day_end(row.get("date")))


def _window(entry: Any, into: Tally, _: str | None) -> None:
    for row in _rows(entry):
        row = _mapping(row)
        kind = str(row["entity_type"])
        into.add(WINDOW_TYPES.get(kind, kind), str(row["entity_id"]), spend_of(row.get("spend")))
        into.seen(moment(row.get("started_at")))


def _spend_log(entry: Any, into: Tally, _: str | None) -> None:
    row = _mapping(entry)
    amount = spend_of(row.get("spend"))
    entities = [(entity_type, str(row[column])) for column, entity_type in LOG_COLUMNS.items() if row.get(column)]
    entities += [("tag", tag) for tag in tags(row.get("request_tags"))]
    for entity_type, entity_id in entities:
        into.add(entity_type, entity_id, amount)
    start = moment(row.get("startTime"))
    into.requests += 1
    into.seen(start)
    into.parked.append(ParkedLog(str(row.get("request_id") or ""), start.replace(tzinfo=None) if start else None,
                                 amount, tuple(entities), bool(row.get("accounting_payload"))))


def _tools(entry: Any, into: Tally, _: str | None) -> None:
    for row in _rows(entry):
        into.requests += int(_mapping(row).get("call_count", 1) or 0)


def _dated_rows(counts: slice) -> Any:
    def decode(entry: Any, into: Tally, _: str | None) -> None:
        for row in _rows(entry):
            row = _rows(row)
            into.requests += sum(int(n or 0) for n in row[counts])
            into.seen(day_end(row[0]))
    return decode


_DECODERS = {"counters": _counters, "daily": _daily, "window": _window, "spend_logs": _spend_log, "tools": _tools,
             # (date, category, route, status_code, succeeded, failed) / legacy without status_code
             "gateway": _dated_rows(slice(4, 6)), "gateway_legacy": _dated_rows(slice(3, 5)),
             # (date, api_key, team_id, user_id, model_group, status_code, count)
             "errors": _dated_rows(slice(6, 7))}


def tags(value: Any) -> list[str]:
    """request_tags as a spend-log row holds them (a JSON text of a list, or the list): the string
    elements, once per occurrence, as LiteLLM increments tag counters."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [tag for tag in value if isinstance(tag, str)] if isinstance(value, list) else []


def moment(value: Any) -> datetime | None:
    """An ISO timestamp as LiteLLM writes it (naive means UTC), aware UTC; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def day_end(value: Any) -> datetime | None:
    """The end of a `YYYY-MM-DD` UTC day: an entry of that day is at least this old."""
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value[:10])
        return datetime.combine(day, time(), timezone.utc) + DAY
    except (ValueError, OverflowError):
        return None
