"""Records `spend ingest` reads, turned into the LiteLLM_SpendLogs row the proxy would write. Pure: no I/O.

`standard` records are LiteLLM's StandardLoggingPayload (what its S3/GCS bucket loggers and custom
loggers write). The row is built field by field as LiteLLM 1.109.1's `get_logging_payload`
(`litellm/proxy/spend_tracking/spend_tracking_utils.py:598-1008`) builds it when the logging kwargs
carry that payload (`standard_logging_object`), then as `DBSpendUpdateWriter.update_database` stores
it (`proxy/db/db_spend_update_writer.py:655-667`: a non-finite cost is 0). What the payload does not
carry is given LiteLLM's default (the README's mapping table says which). `spendlogs` records are rows
as `dbctl spend export --format jsonl` writes them (or whole LiteLLM_SpendLogs rows).

`accounting_payload` builds the outbox payload of LiteLLM 1.110.2's `build_accounting_payload`
(`litellm/accounting/snapshot.py:62-92`) for a row, as `update_database` calls it
(`proxy/db/db_spend_update_writer.py:785-806`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from litellm_dbctl.common import checks
from litellm_dbctl.common.checks import InvalidValue

FORMATS = ("standard", "spendlogs")

# The LiteLLM_SpendLogs columns ingest writes, in the order of queries/spend/ingest_copy.sql.
COLUMNS: tuple[str, ...] = (
    "request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens",
    "startTime", "endTime", "completionStartTime", "model", "model_id", "model_group", "custom_llm_provider",
    "api_base", "user", "metadata", "cache_hit", "cache_key", "request_tags", "team_id", "end_user",
    "requester_ip_address", "messages", "response", "proxy_server_request", "session_id", "status",
    "mcp_namespaced_tool_name", "organization_id", "agent_id", "request_duration_ms", "litellm_call_id",
    "billing_agent_id",
)
JSON_COLUMNS = frozenset({"metadata", "request_tags", "messages", "response", "proxy_server_request"})
INTEGER_MAX = 2**31 - 1  # total/prompt/completion tokens and request_duration_ms are integer columns

_SHA256 = re.compile(r"[0-9a-f]{64}")
_HASHED_JWT = re.compile(r"hashed-jwt-[a-fA-F0-9]{64}")
_NON_SECRET_KEYS = frozenset({"litellm_proxy_master_key", "litellm-internal-health-check", "litellm-cli"})
_USAGE_TOTALS = ("completion_tokens", "prompt_tokens", "total_tokens")
# SpendLogsMetadata's keys, in LiteLLM 1.109.1's order (proxy/_types.py), and where a payload has each.
_FROM_METADATA = ("user_api_key_alias", "user_api_key_team_id", "user_api_key_project_id",
                  "user_api_key_project_alias", "user_api_key_org_id", "user_api_key_user_id",
                  "user_api_key_team_alias", "spend_logs_metadata", "requester_ip_address", "user_agent")


class BadField(ValueError):
    """A record LiteLLM could not have written: `field` names where, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def row(record: object, fmt: str, *, deep: bool = True) -> dict[str, Any]:
    """The spend-log row of one parsed JSON record; BadField when the record is not one. `deep`: walk
    every JSON value (NUL, lone surrogates, non-finite numbers, depth); a reader that knows from the
    record's text that none can be there (`plain_line`) skips the walk."""
    if not isinstance(record, Mapping):
        raise BadField("record", f"expected a JSON object, got {checks.shown(record)}")
    built = from_standard(record) if fmt == "standard" else from_spendlogs(record)
    return validated(built, deep=deep)


def plain_line(text: bytes) -> bool:
    """Whether a record's JSON text cannot hold what the deep walk looks for: no escape that makes a
    NUL or a surrogate (`\\u0000`, `\\ud800`...), no NaN/Infinity, and fewer brackets than the depth
    limit. Most lines are plain, and their walk (the most expensive check) is skipped."""
    return (b"\\u" not in text and b"NaN" not in text and b"Infinity" not in text
            and text.count(b"{") + text.count(b"[") <= checks.JSON_DEPTH)


def logged_api_key(value: object, alias: object = None) -> str:
    """The key as the proxy logs it (`_redact_logged_api_key`, spend_tracking_utils.py:161-171): a
    sha256 hash (or a named service account) as it is, anything else (a raw key) hashed."""
    if not isinstance(value, str) or not value:
        return ""
    stripped = re.sub(r"(?i)^bearer ", "", value)
    if not stripped:
        return ""
    if (_SHA256.fullmatch(stripped) or _HASHED_JWT.fullmatch(stripped) or stripped in _NON_SECRET_KEYS
            or (stripped.startswith("cli-session-") and stripped == alias)):
        return stripped
    return hashlib.sha256(stripped.encode()).hexdigest()


def from_standard(p: Mapping[str, Any]) -> dict[str, Any]:
    """A StandardLoggingPayload's spend-log row (get_logging_payload with the payload in kwargs)."""
    meta = _mapping(p, "metadata")
    hidden = _mapping(p, "hidden_params")
    request_id = _text(p, "id")
    if not request_id:
        raise BadField("id", "missing: every payload has the request's id")
    call_type = _text(p, "call_type")
    if call_type == "aretrieve_batch":  # _cost_row_request_id_suffix, :353-363
        request_id += "_batch_cost"
    start, end = _time(p, "startTime"), _time(p, "endTime")
    failed = p.get("status") == "failure"
    # kwargs' completion_start_time (:619-621): the end time when unset, None after a failure
    completion_start = None if failed else _time(p, "completionStartTime") if p.get("completionStartTime") else end
    cache_hit = p.get("cache_hit")
    if cache_hit is True and "_cache_hit" not in request_id:
        # :831-834 appends time.time() at logging; a hit's payload id carries its own such suffix
        request_id = f"{request_id}_cache_hit{p['endTime']}"
    key_alias = meta.get("user_api_key_alias")
    usage_object = meta.get("usage_object")
    usage: Mapping[str, Any] = usage_object if isinstance(usage_object, Mapping) else {}
    tags = p.get("request_tags")
    if tags is not None and not isinstance(tags, list):
        raise BadField("request_tags", f"expected a list, got {checks.shown(tags)}")
    mcp = meta.get("mcp_tool_call_metadata")
    return {
        "request_id": request_id,
        "call_type": call_type,
        "api_key": logged_api_key(meta.get("user_api_key_hash"), key_alias),
        "spend": _cost(p.get("response_cost")),
        "total_tokens": _count(p, "total_tokens"),
        "prompt_tokens": _count(p, "prompt_tokens"),
        "completion_tokens": _count(p, "completion_tokens"),
        "startTime": start,
        "endTime": end,
        "completionStartTime": completion_start,
        "model": _text(p, "model"),
        "model_id": _text(p, "model_id"),
        "model_group": _text(p, "model_group"),
        "custom_llm_provider": _text(p, "custom_llm_provider"),
        "api_base": _text(p, "api_base"),
        "user": _text(meta, "user_api_key_user_id"),
        "metadata": _spend_logs_metadata(p, meta, hidden, usage, failed),
        "cache_hit": str(cache_hit),
        "cache_key": p.get("cache_key") or "Cache OFF",
        "request_tags": tags if tags is not None else [],
        "team_id": _text(meta, "user_api_key_team_id"),
        "end_user": _text(p, "end_user") or _text(meta, "user_api_key_end_user_id"),
        "requester_ip_address": meta.get("requester_ip_address"),
        "messages": {},  # prompts and responses are stored only with store_prompts_in_spend_logs
        "response": {},
        "proxy_server_request": {},
        "session_id": p.get("trace_id") if p.get("trace_id") is not None else None,
        "status": "failure" if failed else "success",
        "mcp_namespaced_tool_name": mcp.get("namespaced_tool_name") if isinstance(mcp, Mapping) else None,
        "organization_id": _text(meta, "user_api_key_org_id"),
        "agent_id": meta.get("agent_id") if isinstance(meta.get("agent_id"), str) else None,
        "request_duration_ms": int((end - start).total_seconds() * 1000),
        "litellm_call_id": p.get("litellm_call_id"),
        "billing_agent_id": None,
    }


def _spend_logs_metadata(p: Mapping[str, Any], meta: Mapping[str, Any], hidden: Mapping[str, Any],
                         usage: Mapping[str, Any], failed: bool) -> dict[str, Any]:
    """SpendLogsMetadata as `_get_spend_logs_metadata` (:219-350) fills it from what a payload holds."""
    additional = {k: v for k, v in usage.items() if k not in _USAGE_TOTALS}
    details = additional.get("prompt_tokens_details")
    if isinstance(details, Mapping):  # :981-993
        cached = details.get("cached_tokens")
        if "cache_read_input_tokens" not in additional and isinstance(cached, int) and cached > 0:
            additional["cache_read_input_tokens"] = cached
        written = details.get("cache_write_tokens") or details.get("cache_creation_tokens")
        if "cache_creation_input_tokens" not in additional and isinstance(written, int) and written > 0:
            additional["cache_creation_input_tokens"] = written
    email = meta.get("user_api_key_user_email")
    metadata: dict[str, Any] = {
        "actor_agent_id": None, "target_agent_id": None, "billing_agent_id": None, "agent_execution_mode": None,
        "verified_human_user_id": None, "additional_usage_values": additional,
        "user_api_key": logged_api_key(meta.get("user_api_key_hash"), meta.get("user_api_key_alias")) or None,
        **{k: meta.get(k) for k in _FROM_METADATA},
        "litellm_call_id": p.get("litellm_call_id"),
        "applied_guardrails": meta.get("applied_guardrails"),
        "mcp_tool_call_metadata": meta.get("mcp_tool_call_metadata"),
        "vector_store_request_metadata": meta.get("vector_store_request_metadata"),
        "routing_decision": meta.get("routing_decision"),
        "internal_call_origin": meta.get("internal_call_origin"),
        "guardrail_information": p.get("guardrail_information"),
        "eval_information": None,
        "status": "failure" if failed else None,  # the proxy's failure hook stamps it (proxy_track_cost_callback.py:483)
        "proxy_server_request": None,
        "batch_models": hidden.get("batch_models"),
        "batch_successful_requests": hidden.get("batch_successful_requests"),
        "batch_failed_requests": hidden.get("batch_failed_requests"),
        "error_information": p.get("error_information") if failed else None,
        "usage_object": meta.get("usage_object"),
        "model_map_information": p.get("model_map_information"),
        "cold_storage_object_key": meta.get("cold_storage_object_key"),
        "litellm_overhead_time_ms": hidden.get("litellm_overhead_time_ms"),
        "attempted_retries": None, "max_retries": None, "attempted_fallbacks": None, "original_model_group": None,
        "cost_breakdown": p.get("cost_breakdown"),
        "compression_savings": None, "litellm_gateway_injected_cache": None,
        "autorouter_savings": p.get("autorouter_savings"),
        "autorouter_savings_estimate": p.get("autorouter_savings_estimate"),
        "autorouter_baseline_observation": p.get("autorouter_baseline_observation"),
        "router_metadata": None, "azure_spillover": None,
        "used_client_oauth_token": meta.get("used_client_oauth_token"),
        "kubernetes_pod_routing": meta.get("kubernetes_pod_routing"),
        "litellm_roi_estimator": False,
        "billed_retry_attempt": meta.get("billed_retry_attempt") is True,
        "user_api_key_user_email": email if isinstance(email, str) and email.strip() else None,
    }
    if isinstance(hidden.get("upstream_provider"), str):
        metadata["upstream_provider"] = hidden["upstream_provider"]
    if meta.get("is_silent_experiment"):
        metadata["is_silent_experiment"] = True
    return metadata


# `spend export --format jsonl` names the times start_time/end_time; a whole row names them as the table does.
_ALIASES = {"start_time": "startTime", "end_time": "endTime", "completion_start_time": "completionStartTime"}
_EXPORT_ONLY = frozenset({"cache_read_input_tokens", "cache_creation_input_tokens", "counted_request",
                          "internal_call_origin", "billed_retry", "created_at", "updated_at"})


def from_spendlogs(r: Mapping[str, Any]) -> dict[str, Any]:
    """A spend-log row as exported (or whole): the table's columns; what the daily tables read from
    metadata comes back as the metadata keys they read when the export left the metadata out."""
    given = {_ALIASES.get(k, k): v for k, v in r.items()}
    unknown = sorted(k for k in given if k not in COLUMNS and k not in _EXPORT_ONLY)
    if unknown:
        raise BadField(unknown[0], "not a LiteLLM_SpendLogs column")
    for name in ("request_id", "startTime", "endTime"):
        if not given.get(name):
            raise BadField(name, "missing")
    built: dict[str, Any] = {
        "request_id": _text(given, "request_id"), "call_type": _text(given, "call_type"),
        "api_key": _text(given, "api_key"), "spend": _cost(given.get("spend", 0.0)),
        "total_tokens": _count(given, "total_tokens"), "prompt_tokens": _count(given, "prompt_tokens"),
        "completion_tokens": _count(given, "completion_tokens"),
        "startTime": _time(given, "startTime"), "endTime": _time(given, "endTime"),
        "completionStartTime": _time(given, "completionStartTime") if given.get("completionStartTime") else None,
        "model": _text(given, "model"),
        "metadata": given.get("metadata"), "request_tags": given.get("request_tags", []),
        "messages": given.get("messages", {}), "response": given.get("response", {}),
        "proxy_server_request": given.get("proxy_server_request", {}),
    }
    for name in COLUMNS:
        if name not in built:
            value = given.get(name)
            if value is not None and (not isinstance(value, (str, int)) or isinstance(value, bool)):
                raise BadField(name, f"expected a string, got {checks.shown(value)}")
            built[name] = value
    for name in ("cache_hit", "cache_key", "model_id", "api_base"):  # the table's defaults: ''
        if built[name] is None:
            built[name] = ""
    if built["metadata"] is None:  # an export without --with-metadata: what the daily tables read
        built["metadata"] = _exported_metadata(given)
    if not isinstance(built["metadata"], Mapping):
        raise BadField("metadata", f"expected an object, got {checks.shown(built['metadata'])}")
    return built


def _exported_metadata(given: Mapping[str, Any]) -> dict[str, Any]:
    usage = {"cache_read_input_tokens": given.get("cache_read_input_tokens") or 0,
             "cache_creation_input_tokens": given.get("cache_creation_input_tokens") or 0}
    return {"status": "failure" if given.get("status") == "failure" else "success",
            "usage_object": usage, "internal_call_origin": given.get("internal_call_origin"),
            "billed_retry_attempt": given.get("billed_retry") is True}


def validated(built: dict[str, Any], *, deep: bool = True) -> dict[str, Any]:
    """What PostgreSQL would refuse, refused here naming the column: NUL, lone surrogates, non-finite
    or out-of-range numbers, JSON nested without end (the JSON columns walked only when `deep`)."""
    for name in COLUMNS:
        value = built.get(name)
        try:
            if name in JSON_COLUMNS:
                if deep:
                    checks.json_value(value)
            elif isinstance(value, str):
                checks.text(value)
        except InvalidValue as exc:
            raise BadField(name, str(exc)) from None
    for name in ("total_tokens", "prompt_tokens", "completion_tokens", "request_duration_ms"):
        value = built.get(name)
        if value is not None and not -INTEGER_MAX - 1 <= value <= INTEGER_MAX:
            raise BadField(name, f"out of range for an integer column: {value}")
    return built


def accounting_payload(r: Mapping[str, Any], project_id: str | None = None) -> dict[str, Any]:
    """LiteLLM 1.110.2's outbox payload for a spend-log row (snapshot.py:62-92, entities as
    db_spend_update_writer.py:792-801 passes them). Savings are 0 (they need the proxy's price map
    and router; snapshot.py:95-106 stores 0 when it cannot compute them); no model access groups or
    budget windows (a request from outside the proxy debits none)."""
    metadata = r["metadata"] if isinstance(r["metadata"], Mapping) else {}
    kept = {k: _guardrail_entries(v) if k in ("guardrail_information", "standard_logging_guardrail_information")
            else v for k, v in metadata.items() if k in _ACCOUNTING_METADATA}
    fields = {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in r.items() if k in _ACCOUNTING_FIELDS}
    fields["request_tags"] = json.dumps(r["request_tags"])  # SpendLogsPayload holds it as JSON text
    return {
        **fields,
        "metadata": {
            **kept,
            "accounting_entities": {
                "api_key": r["api_key"], "user": r["user"] or None, "end_user": r["end_user"] or None,
                "team_id": r["team_id"] or None, "organization_id": r["organization_id"] or None,
                "project_id": project_id, "agent_id": r["agent_id"], "proxy_budget_name": None,
            },
            "accounting_savings": {"compression": 0.0, "prompt_caching": 0.0, "autorouter": 0.0,
                                   "gateway_injected_caching": 0.0},
            "accounting_model_access_groups": [],
            "accounting_windows": [],
        },
    }


_ACCOUNTING_METADATA = frozenset({"usage_object", "status", "guardrail_information",
                                  "standard_logging_guardrail_information", "compression_savings",
                                  "internal_call_origin", "billed_retry_attempt"})
_ACCOUNTING_FIELDS = frozenset({"request_id", "call_type", "api_key", "spend", "prompt_tokens", "completion_tokens",
                                "startTime", "model", "model_group", "custom_llm_provider", "user", "team_id",
                                "organization_id", "end_user", "agent_id", "request_tags", "status",
                                "request_duration_ms", "mcp_namespaced_tool_name"})
_GUARDRAIL_KEPT = frozenset({"guardrail_id", "guardrail_name", "guardrail_provider", "guardrail_usage",
                             "guardrail_cost_by_unit", "guardrail_cost_in_spend"})


def _guardrail_entries(value: object) -> object:
    """snapshot.py:145-163: each entry's accounting fields and tokens_saved; not a list of objects: None."""
    entries = [value] if isinstance(value, dict) else value
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return None
    out = []
    for entry in entries:
        kept = {k: v for k, v in entry.items() if k in _GUARDRAIL_KEPT}
        response = entry.get("guardrail_response")
        if isinstance(response, dict) and "tokens_saved" in response:
            kept["guardrail_response"] = {"tokens_saved": response["tokens_saved"]}
        out.append(kept)
    return out


def _iso(value: datetime) -> str:
    """update_database's `_iso_timestamp` (db_spend_update_writer.py:671) of an aware UTC time."""
    return value.astimezone(timezone.utc).isoformat()


def _mapping(p: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = p.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadField(name, f"expected an object, got {checks.shown(value)}")
    return value


def _text(p: Mapping[str, Any], name: str) -> str:
    value = p.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadField(name, f"expected a string, got {checks.shown(value)}")
    return value


def _count(p: Mapping[str, Any], name: str) -> int:
    value = p.get(name)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise BadField(name, f"expected a whole number, got {checks.shown(value)}")
    return value


def _cost(value: object) -> float:
    """update_database's spend: a finite cost, else 0.0 (db_spend_update_writer.py:655-662)."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadField("response_cost", f"expected a number, got {checks.shown(value)}")
    cost = float(value)
    return cost if math.isfinite(cost) else 0.0


def _time(p: Mapping[str, Any], name: str) -> datetime:
    """A payload's epoch seconds, or an ISO time (a naive one is UTC, as the column holds), as aware UTC."""
    value = p.get(name)
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise BadField(name, f"must be a finite number, not {value!r}")
            return datetime.fromtimestamp(value, timezone.utc)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise BadField(name, f"not a time: {value!r}") from None
    raise BadField(name, f"expected epoch seconds or an ISO time, got {checks.shown(value)}")
