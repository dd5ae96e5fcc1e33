"""Write tests/data/buffer/entries.json: LiteLLM's Redis buffers as its own code fills them.

Runs LiteLLM 1.109.1's `RedisUpdateBuffer` (proxy/db/db_transaction_queue/redis_update_buffer.py)
with its real in-memory queues (SpendUpdateQueue, DailySpendUpdateQueue, WindowSpendUpdateQueue),
its real `safe_dumps` and spend-log encoder, and a recording stand-in for RedisCache: whatever
`store_in_memory_spend_updates_in_redis`, `store_in_memory_daily_tag_spend_updates_in_redis` and
`store_spend_logs_in_redis` RPUSH is written out per key, byte for byte. The cron-job lock value is
what `PodLockManager.acquire_lock` SETs (async_set_cache JSON-encodes it). Only the modules on that
path are loaded from the unpacked wheel (the `litellm` package's __init__ is bypassed); logging,
service metrics, proxy types and settings are stubbed. Needs pydantic and typing_extensions:

    python3 tests/data/buffer/generate.py /work/ref/l109

tests/test_spend_buffer.py pushes the recorded entries into the test's Redis namespace and checks
`dbctl spend buffer` against the figures recorded here (`expected`), so CI needs no litellm.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import sys
import types
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from typing_extensions import TypedDict

OUT = Path(__file__).with_name("entries.json")


def stub(name: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def package(name: str, path: Path) -> None:
    stub(name, __path__=[str(path)])


class _Names:
    """ServiceTypes: any member, as its name."""

    def __getattr__(self, name: str) -> str:
        return name


class ServiceLogging:
    async def async_service_success_hook(self, **_: Any) -> None:
        return None


class Litellm_EntityType(enum.Enum):  # litellm/types/integrations/slack_alerting.py:298-315
    KEY = "key"
    USER = "user"
    END_USER = "end_user"
    TEAM = "team"
    TEAM_MEMBER = "team_member"
    ORGANIZATION = "organization"
    ORGANIZATION_MEMBER = "organization_member"
    PROJECT = "project"
    TAG = "tag"
    AGENT = "agent"
    MODEL_ACCESS_GROUP = "model_access_group"


class ToolDiscoveryQueueItem(TypedDict, total=False):
    tool_name: str
    origin: str | None
    call_count: int


class RecordingRedis:
    """What RedisUpdateBuffer sends to RedisCache, recorded per key (no namespace: the test adds it)."""

    def __init__(self) -> None:
        self.lists: dict[str, list[str]] = {}
        self.strings: dict[str, str] = {}

    def _push(self, key: str, values: Any) -> int:
        self.lists.setdefault(key, []).extend(values)
        return len(self.lists[key])

    async def async_rpush(self, key: str, values: Any, **_: Any) -> int:
        return self._push(key, values)

    async def async_rpush_pipeline(self, rpush_list: Any, **_: Any) -> list[int]:
        return [self._push(op["key"], op["values"]) for op in rpush_list]

    async def async_rpush_and_trim(self, key: str, values: Any, max_len: int, **_: Any) -> int:
        return self._push(key, values)

    async def async_set_cache(self, key: str, value: Any, **_: Any) -> bool:
        self.strings[key] = json.dumps(value)  # as RedisCache.async_set_cache (caching/redis_cache.py:1168-1180)
        return True


def load(root: Path) -> dict[str, Any]:
    lit = root / "litellm"
    package("litellm", lit)
    logger = logging.getLogger("litellm-stub")
    stub("litellm._logging", verbose_proxy_logger=logger, verbose_logger=logger)
    stub("litellm._service_logger", ServiceLogging=ServiceLogging)
    stub("litellm.caching", RedisCache=object)
    stub("litellm.caching.redis_cache", RedisCache=object, log_redis_failure=lambda *a, **k: None)
    package("litellm.proxy", lit / "proxy")
    stub("litellm.proxy._types", BaseDailySpendTransaction=dict, DailyAgentSpendTransaction=dict,
         DailyEndUserSpendTransaction=dict, DailyOrganizationSpendTransaction=dict, DailyTagSpendTransaction=dict,
         DailyTeamSpendTransaction=dict, DailyUserSpendTransaction=dict, DBSpendUpdateTransactions=dict,
         Litellm_EntityType=Litellm_EntityType, SpendUpdateQueueItem=dict, ToolDiscoveryQueueItem=ToolDiscoveryQueueItem)
    stub("litellm.proxy.proxy_server", general_settings={"use_redis_transaction_buffer": True})
    stub("litellm.proxy.db.spend_log_batching", SpendLogRow=dict)
    stub("litellm.secret_managers.main", str_to_bool=lambda v: str(v).lower() == "true")
    stub("litellm.types.caching", RedisPipelineRpushOperation=dict, RedisPipelineLpopOperation=dict)
    stub("litellm.types.services", ServiceTypes=_Names())
    stub("litellm._uuid", uuid=__import__("uuid"))
    try:
        import redis.exceptions  # noqa: F401
    except ImportError:
        stub("redis", __path__=[])
        stub("redis.exceptions", RedisError=Exception)
    from litellm.proxy.db.db_transaction_queue import (
        daily_spend_update_queue,
        pod_lock_manager,
        redis_update_buffer,
        spend_update_queue,
        window_spend_update_queue,
    )
    return {"buffer": redis_update_buffer, "spend": spend_update_queue, "daily": daily_spend_update_queue,
            "window": window_spend_update_queue, "lock": pod_lock_manager}


def daily(entity_field: str, entity_id: str, day: str, spend: float, requests: int, model: str = "gpt-4o") -> dict:
    """One request's daily transaction, keyed as db_spend_update_writer keys it (§1.6)."""
    return {f"{entity_id}_{day}_hash-k1_{model}_openai_/chat/completions": {
        entity_field: entity_id, "date": day, "api_key": "hash-k1", "model": model, "model_group": model,
        "mcp_namespaced_tool_name": None, "custom_llm_provider": "openai", "endpoint": "/chat/completions",
        "prompt_tokens": 10 * requests, "completion_tokens": 5 * requests, "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0, "compression_saved_tokens": 0, "compression_savings_spend": 0.0,
        "prompt_caching_savings_spend": 0.0, "gateway_injected_caching_savings_spend": 0.0, "spend": spend,
        "api_requests": requests, "successful_requests": requests, "failed_requests": 0}}


async def fill(mods: dict[str, Any]) -> tuple[RecordingRedis, dict[str, Any]]:
    redis = RecordingRedis()
    buffer = mods["buffer"].RedisUpdateBuffer(redis_cache=redis)
    kind = Litellm_EntityType
    spend_q = mods["spend"].SpendUpdateQueue()
    daily_qs = {name: mods["daily"].DailySpendUpdateQueue() for name in ("user", "team", "org", "end_user", "agent",
                                                                         "tag")}
    window_q = mods["window"].WindowSpendUpdateQueue()
    # Two flushes (two pods' ticks): two entries in each buffer; LiteLLM aggregates within a flush.
    ticks = [
        [(kind.KEY, "hash-k1", 0.5), (kind.KEY, "hash-k1", 0.25), (kind.USER, "u1", 0.75), (kind.TEAM, "t1", 0.75),
         (kind.TEAM_MEMBER, "team_id::t1::user_id::u1", 0.75), (kind.ORGANIZATION, "o1", 0.75),
         (kind.END_USER, "eu1", 0.5), (kind.TAG, "prod", 0.75), (kind.TAG, "blue", 0.25)],
        [(kind.KEY, "hash-k2", 2.0), (kind.USER, "u1", 2.0), (kind.TEAM, "t1", 2.0), (kind.PROJECT, "p1", 2.0)],
    ]
    windows = [[("key", "hash-k1", "1d", datetime(2026, 6, 10), 0.75, datetime(2026, 6, 10, 11, 50, 5))],
               [("team", "t1", "7d", datetime(2026, 6, 8), 2.0, datetime(2026, 6, 10, 11, 52, 30))]]
    days = [("2026-06-09", 0.75, 2), ("2026-06-10", 2.0, 1)]
    ids = {"user": ("user_id", "u1"), "team": ("team_id", "t1"), "org": ("organization_id", "o1"),
           "end_user": ("end_user_id", "eu1"), "agent": ("agent_id", "a1"), "tag": ("tag", "prod")}
    for tick, window, (day, day_spend, requests) in zip(ticks, windows, days):
        for entity_type, entity_id, cost in tick:
            await spend_q.add_update({"entity_type": entity_type, "entity_id": entity_id, "response_cost": cost})
        for name, queue in daily_qs.items():
            field, entity_id = ids[name]
            await queue.add_update(daily(field, entity_id, day, day_spend, requests))
        for entity_type, entity_id, duration, start, cost, started in window:
            await window_q.add_update(mods["window"].build_window_spend_transaction(
                entity_type, entity_id, duration, start, cost, started_at=started))
        await buffer.store_in_memory_spend_updates_in_redis(
            spend_update_queue=spend_q, daily_spend_update_queue=daily_qs["user"],
            daily_team_spend_update_queue=daily_qs["team"], daily_org_spend_update_queue=daily_qs["org"],
            daily_end_user_spend_update_queue=daily_qs["end_user"], daily_agent_spend_update_queue=daily_qs["agent"],
            window_spend_update_queue=window_q)
        await buffer.store_in_memory_daily_tag_spend_updates_in_redis(daily_tag_spend_update_queue=daily_qs["tag"])
    # Spend-log rows a failed write parked (proxy/utils.py requeue_spend_logs): datetimes as the queue holds them.
    rows = [{"request_id": "req-parked-1", "call_type": "acompletion", "api_key": "hash-k1", "spend": 1.25,
             "total_tokens": 30, "prompt_tokens": 20, "completion_tokens": 10,
             "startTime": datetime(2026, 6, 10, 11, 40, tzinfo=timezone.utc),
             "endTime": datetime(2026, 6, 10, 11, 40, 2, tzinfo=timezone.utc), "completionStartTime": None,
             "model": "gpt-4o", "model_id": "m1", "model_group": "gpt-4o", "mcp_namespaced_tool_name": None,
             "agent_id": None, "api_base": "", "user": "u1", "metadata": "{}", "cache_hit": "False", "cache_key": "",
             "request_tags": json.dumps(["prod", "blue"]), "team_id": "t1", "organization_id": "o1",
             "end_user": "eu1", "requester_ip_address": None, "custom_llm_provider": "openai", "messages": "{}",
             "response": "{}", "proxy_server_request": None, "session_id": None, "request_duration_ms": 2000,
             "status": "success", "litellm_call_id": "call-1"}]
    await buffer.store_spend_logs_in_redis(rows)
    lock = mods["lock"].PodLockManager(redis_cache=redis)
    lock.pod_id = "6a1f0c3e-pod-a"
    await lock.acquire_lock(cronjob_id="db_spend_update_job")
    expected = {
        "litellm_spend_update_buffer": {"key": 2.75, "user": 2.75, "team": 2.75, "team_member": 0.75, "org": 0.75,
                                        "end_user": 0.5, "tag": 1.0, "project": 2.0},
        "litellm_window_spend_update_buffer": {"key": 0.75, "team": 2.0},
        "litellm_spend_logs_buffer": {"key": 1.25, "user": 1.25, "team": 1.25, "org": 1.25, "end_user": 1.25,
                                      "tag": 2.5},
        **{key: {name: 2.75} for name, key in (
            ("user", "litellm_daily_spend_update_buffer"), ("team", "litellm_daily_team_spend_update_buffer"),
            ("org", "litellm_daily_org_spend_update_buffer"), ("end_user", "litellm_daily_end_user_spend_update_buffer"),
            ("agent", "litellm_daily_agent_spend_update_buffer"), ("tag", "litellm_daily_tag_spend_update_buffer"))},
    }
    return redis, expected


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/ref/l109")
    redis, expected = asyncio.run(fill(load(root)))
    OUT.write_text(json.dumps({"source": f"LiteLLM's RedisUpdateBuffer from {root.name} (tests/data/buffer/generate.py)",
                               "lists": redis.lists, "strings": redis.strings, "expected_spend": expected},
                              indent=1) + "\n")
    print(f"wrote {OUT}: " + ", ".join(f"{k} ({len(v)})" for k, v in redis.lists.items()))


if __name__ == "__main__":
    main()
