"""Generate tests/data/outbox/worker_rows.json: the six daily tables as LiteLLM 1.110.2's accounting
worker projects them (`litellm.accounting.delivery_projection.project_deliveries`, the code its
worker runs on each delivery's `accounting_payload`) for a fixed set of spend logs.

A log whose payload the projection rejects (a ValueError: request_tags not a list, say) is marked
`parked`, as the worker parks it. CI needs no litellm install: the JSON is committed, and tests/test_daily_outbox.py checks that
`daily reconcile` writes the same rows from the same logs. Re-run this only to refresh it, with
litellm installed without its dependencies (its pins include a certifi the index lacks) plus the
few modules the import path needs:

    python -m venv /tmp/lit && . /tmp/lit/bin/activate
    pip install --no-deps litellm==1.110.2   # or the wheel file
    pip install python-dotenv httpx openai tiktoken tokenizers jinja2 aiohttp pydantic \
        pydantic-settings jsonschema pyyaml importlib-metadata fastuuid filelock click fastapi hypothesis
    LITELLM_LOCAL_MODEL_COST_MAP=True PYTHONPATH=tests python tests/data/outbox/generate_worker_rows.py

The payload is built as `build_accounting_payload` (litellm/accounting/snapshot.py) builds it from
the spend-log row: its accounting fields, the metadata fields it keeps, the entities
`update_database` charges (organization only when set), zero savings.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import fix_daily

OUT = Path(__file__).with_name("worker_rows.json")
SEED, DAYS, PER_DAY = 1110, 2, 25
METADATA_FIELDS = ("usage_object", "status", "guardrail_information", "standard_logging_guardrail_information",
                   "compression_savings", "internal_call_origin", "billed_retry_attempt")


def odd_logs() -> list[fix_daily.Log]:
    """Shapes plain_logs lacks: an MCP tool, a billed retry, duplicate and non-string tags, a top-level
    cache count, an unmapped call type, '' ids, headroom savings beside a non-object guardrail entry
    (1.110's payload drops the array), request_tags not a list (the worker parks it)."""
    base = fix_daily.plain_logs(SEED + 1, fix_daily.FIRST_DAY, 1, 8, prefix="odd")
    shapes: list[dict[str, Any]] = [
        {"mcp_namespaced_tool_name": "github/search", "call_type": "call_mcp_tool"},
        {"metadata": {"status": "success", "billed_retry_attempt": True, "usage_object": {}}},
        {"request_tags": ["x", "x", "y"], "team_id": "", "user": None},
        {"request_tags": ["x", 1], "metadata": {"status": "success",
                                                "usage_object": {"cache_read_input_tokens": 7,
                                                                 "cache_creation_input_tokens": 3}}},
        {"call_type": "unmapped_call", "end_user": "", "organization_id": ""},
        {"metadata": {"status": "failure", "internal_call_origin": "guardrail"}, "duration_ms": -1},
        {"metadata": {"status": "success", "guardrail_information": [
            None, {"guardrail_provider": "headroom", "guardrail_response": {"tokens_saved": 5}}]}},
        {"request_tags": {"a": 1}},
    ]
    for log, shape in zip(base, shapes):
        for name, value in shape.items():
            setattr(log, name, value)
    return base


def drawn_logs(batches: int = 15) -> list[fix_daily.Log]:
    """Logs of every shape the daily rules distinguish (fix_daily.logs, hypothesis examples: the JSON
    keeps them, so the draw need not repeat), limited to what a 1.110 proxy writes beside a delivery:
    metadata an object, usage_object an object or absent (build_accounting_payload parses both)."""
    import warnings

    warnings.simplefilter("ignore")  # .example() outside a test
    result: list[fix_daily.Log] = []
    for batch in range(batches):
        for number, log in enumerate(fix_daily.logs(max_size=25).example()):
            usage = log.metadata.get("usage_object", {}) if isinstance(log.metadata, dict) else None
            if isinstance(usage, dict):
                log.request_id = f"h{batch}-{number:03d}"
                result.append(log)
    return result


def iso(value: datetime) -> str:
    return value.replace(tzinfo=timezone.utc).isoformat()


def payload(log: fix_daily.Log) -> dict[str, Any]:
    from litellm.accounting.snapshot import _accounting_metadata_field  # the proxy's own filter

    metadata = log.metadata if isinstance(log.metadata, dict) else {}
    return {
        "request_id": log.request_id, "call_type": log.call_type, "api_key": log.api_key, "spend": log.spend,
        "prompt_tokens": log.prompt_tokens, "completion_tokens": log.completion_tokens,
        "startTime": iso(log.start), "model": log.model, "model_group": log.model_group,
        "custom_llm_provider": log.custom_llm_provider, "user": log.user, "team_id": log.team_id,
        "organization_id": log.organization_id, "end_user": log.end_user, "agent_id": log.agent_id,
        "request_tags": log.request_tags, "status": log.status, "request_duration_ms": log.duration_ms,
        "mcp_namespaced_tool_name": log.mcp_namespaced_tool_name,
        "metadata": {**{k: _accounting_metadata_field(k, v) for k, v in metadata.items() if k in METADATA_FIELDS},
                     "accounting_entities": {"api_key": log.api_key, "user": log.user, "end_user": log.end_user,
                                             "team_id": log.team_id, "organization_id": log.organization_id or None,
                                             "project_id": None, "agent_id": log.agent_id,
                                             "proxy_budget_name": None},
                     "accounting_savings": {"compression": 0.0, "prompt_caching": 0.0},
                     "accounting_model_access_groups": [], "accounting_windows": []},
    }


def log_json(log: fix_daily.Log) -> dict[str, Any]:
    return {**vars(log), "start": log.start.isoformat(), "end": log.end.isoformat()}


def main() -> None:
    from litellm.accounting.delivery_projection import project_deliveries
    from litellm.proxy.db.daily_spend_bulk_upsert import DAILY_SPEND_TABLES
    from litellm.repositories.accounting_delivery_repository import DeliveryProjection

    logs = fix_daily.plain_logs(SEED, fix_daily.FIRST_DAY, DAYS, PER_DAY, prefix="w") + odd_logs() + drawn_logs()
    payloads = {log.request_id: json.loads(json.dumps(payload(log))) for log in logs}
    parked = set()
    for request_id, row in payloads.items():  # what the worker fails on for the row's own data, it parks
        try:
            project_deliveries([DeliveryProjection(row)])
        except (ValueError, TypeError, KeyError):
            parked.add(request_id)
    short = {table.name: name for name, table in DAILY_SPEND_TABLES.items()}
    rows = []
    for item in project_deliveries([DeliveryProjection(payloads[log.request_id]) for log in logs
                                    if log.request_id not in parked]):
        if item.table not in short:
            continue
        key = dict(item.key)
        entity = next(column for column, _ in item.key if column not in
                      ("date", "api_key", "model", "custom_llm_provider", "mcp_namespaced_tool_name", "endpoint"))
        rows.append({"table": short[item.table], "entity_id": key.pop(entity), **key,
                     **{name: value for name, value in item.increments if name in (*fix_daily.INT_COUNTERS, "spend")}})
    rows.sort(key=lambda r: tuple(str(r[c]) for c in ("table", "entity_id", "date", "api_key", "model",
                                                        "custom_llm_provider", "mcp_namespaced_tool_name", "endpoint")))
    lines = ",\n".join(json.dumps({**log_json(log), "parked": log.request_id in parked}, sort_keys=True)
                        for log in logs)
    table = ",\n".join(json.dumps(row) for row in rows)
    OUT.write_text(f'{{"litellm": "1.110.2", "generator": "tests/data/outbox/generate_worker_rows.py",\n'
                   f'"logs": [\n{lines}\n],\n"rows": [\n{table}\n]}}\n')
    print(f"{OUT}: {len(logs)} logs ({len(parked)} the worker parks), {len(rows)} daily rows")


if __name__ == "__main__":
    main()
