"""Build the `spend ingest` fixtures with LiteLLM's own code: StandardLoggingPayloads from the SDK
(mock responses, no network) and the spend-log rows the proxy's `get_logging_payload` builds from
the same call. Not run in CI (the fixtures it writes are committed); to run it:

    python3 -m venv /work/wt/venv-litellm
    /work/wt/venv-litellm/bin/pip install --no-deps litellm-1.109.1-*.whl   # its certifi pin is not on the index
    /work/wt/venv-litellm/bin/pip install httpx pydantic pydantic-settings tiktoken openai jinja2 aiohttp \
        tokenizers h2 fastapi backoff redis orjson
    LITELLM_LOCAL_MODEL_COST_MAP=True /work/wt/venv-litellm/bin/python tests/data/ingest/generate.py

Writes payloads.jsonl (one StandardLoggingPayload a line, as the S3/GCS loggers write each object)
and spend_logs.json (request id -> the row get_logging_payload built, times as ISO text).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
from litellm.caching.caching import Cache
from litellm.integrations.custom_logger import CustomLogger
from litellm.proxy.spend_tracking.spend_tracking_utils import get_logging_payload
from litellm.types.utils import ModelResponse, Usage

HERE = Path(__file__).parent
CAPTURED: list[tuple[dict[str, Any], dict[str, Any]]] = []


class Capture(CustomLogger):
    """What the proxy's spend writer receives: the logging kwargs, the response, start and end."""

    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        record(kwargs, response_obj, start_time, end_time)

    async def async_log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        record(kwargs, response_obj, start_time, end_time)


def record(kwargs: dict[str, Any], response_obj: Any, start: datetime, end: datetime) -> None:
    """The payload, and the row get_logging_payload builds from the same call (while the cache is as
    it was for that call)."""
    slp = kwargs["standard_logging_object"]
    if slp["status"] == "failure":  # what the proxy's failure hook stamps (proxy_track_cost_callback.py:483)
        kwargs["litellm_params"]["metadata"]["status"] = "failure"
        kwargs["litellm_params"]["metadata"]["error_information"] = slp["error_information"]
    row = get_logging_payload(kwargs, response_obj, start, end)
    CAPTURED.append((json.loads(json.dumps(slp, default=str)), jsonable(dict(row))))


def proxy_metadata(*, key: str, user: str | None, team: str | None, org: str | None,
                   tags: list[str] | None = None, end_user: str | None = None) -> dict[str, Any]:
    """The metadata the proxy's auth stamps on a request (litellm_pre_call_utils)."""
    metadata: dict[str, Any] = {
        "user_api_key": key, "user_api_key_hash": key, "user_api_key_alias": f"alias-{key[-4:]}",
        "user_api_key_user_id": user, "user_api_key_team_id": team, "user_api_key_org_id": org,
        "user_api_key_team_alias": None, "user_api_key_end_user_id": end_user,
    }
    if tags is not None:
        metadata["tags"] = tags
    return metadata


KEY_A = "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"
KEY_B = "2b4f0c8b4d1c7f5e8d0b9a3e6f1c2d4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e"


async def calls() -> None:
    # a completion: key, user, team, org, an end user, tags (one repeated)
    await litellm.acompletion(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}], mock_response="hi there",
        user="customer-7", metadata=proxy_metadata(key=KEY_A, user="u-alice", team="t-red", org="o-acme",
                                                   tags=["prod", "chat", "prod"], end_user="customer-7"))
    # a completion with cached prompt tokens in its usage
    usage = Usage(prompt_tokens=2000, completion_tokens=50, total_tokens=2050,
                  prompt_tokens_details={"cached_tokens": 1024})
    await litellm.acompletion(
        model="gpt-4o", messages=[{"role": "user", "content": "a long prompt"}],
        mock_response=ModelResponse(choices=[{"message": {"role": "assistant", "content": "ok"}}], usage=usage,
                                    model="gpt-4o"),
        metadata=proxy_metadata(key=KEY_A, user="u-alice", team="t-red", org="o-acme", tags=["batch"]))
    # an embedding, a key with a user and no team
    await litellm.aembedding(model="text-embedding-3-small", input=["some text"], mock_response=[0.1, 0.2, 0.3],
                             metadata=proxy_metadata(key=KEY_B, user="u-bob", team=None, org=None))
    # a failure
    try:
        await litellm.acompletion(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "fail"}],
            mock_response="litellm.RateLimitError", num_retries=0,
            metadata=proxy_metadata(key=KEY_B, user="u-bob", team="t-blue", org=None, tags=["prod"]))
    except litellm.RateLimitError:
        pass
    # a cache hit: the same call twice with the in-memory cache on
    await asyncio.sleep(0.5)
    litellm.cache = Cache(type="local")
    for _ in range(2):
        await litellm.acompletion(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "cache me"}], mock_response="cached answer",
            caching=True, user="customer-9",
            metadata=proxy_metadata(key=KEY_A, user="u-carol", team="t-red", org="o-acme", tags=["cached"],
                                    end_user="customer-9"))
        await asyncio.sleep(0.5)
    await asyncio.sleep(1.0)  # let the logging worker finish


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def main() -> None:
    litellm.callbacks = [Capture()]
    asyncio.run(calls())
    payloads: list[dict[str, Any]] = []
    rows: dict[str, Any] = {}
    for slp, row in CAPTURED:
        payloads.append(slp)
        rows[slp["id"] + ("#cache_hit" if slp.get("cache_hit") else "")] = row
    with open(HERE / "payloads.jsonl", "w") as out:
        for payload in payloads:
            out.write(json.dumps(payload, sort_keys=True) + "\n")
    (HERE / "spend_logs.json").write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")
    print(f"{len(payloads)} payloads, {len(rows)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
