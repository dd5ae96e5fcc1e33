"""Spend logs of every shape the daily rules care about, and a reference aggregator written from the
documented rules (litellm-database.md §1.2-1.4 and §1.9), independent of dbctl's SQL."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

FIRST_DAY = datetime(2026, 1, 10)
DAYS = 3

# call_type -> the endpoint LiteLLM's route map gives it ('' when it has none)
ENDPOINTS = {
    "acompletion": "/chat/completions",
    "aresponses": "/responses",
    "_aresponses_websocket": "/responses",
    "aembedding": "/embeddings",
    "aretrieve_batch": "/batches",
    "alist_input_items": "/responses/{response_id}/input_items",
    "anthropic_messages": "",
    "completion": "",
    "pass_through_endpoint": "",
}

TABLES = {  # short name -> (table, entity column)
    "user": ("LiteLLM_DailyUserSpend", "user_id"),
    "team": ("LiteLLM_DailyTeamSpend", "team_id"),
    "org": ("LiteLLM_DailyOrganizationSpend", "organization_id"),
    "end_user": ("LiteLLM_DailyEndUserSpend", "end_user_id"),
    "agent": ("LiteLLM_DailyAgentSpend", "agent_id"),
    "tag": ("LiteLLM_DailyTagSpend", "tag"),
}
INT_COUNTERS = ("prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
                "compression_saved_tokens", "api_requests", "successful_requests", "failed_requests",
                "total_response_time_ms", "timed_requests")
ABSENT = object()  # a metadata key left out


@dataclass
class Log:
    request_id: str
    call_type: str
    start: datetime
    end: datetime
    duration_ms: int | None
    api_key: str
    model: str
    custom_llm_provider: str | None
    mcp_namespaced_tool_name: str | None
    model_group: str | None
    user: str | None
    team_id: str | None
    organization_id: str | None
    end_user: str | None
    agent_id: str | None
    request_tags: Any  # a JSON value, or None for SQL NULL
    metadata: Any  # a JSON value, or None for SQL NULL
    status: str | None
    spend: float
    prompt_tokens: int
    completion_tokens: int

    def row(self) -> dict[str, Any]:
        from psycopg.types.json import Jsonb

        return {
            "request_id": self.request_id, "call_type": self.call_type, "api_key": self.api_key,
            "spend": self.spend, "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
            "startTime": self.start, "endTime": self.end, "model": self.model, "model_group": self.model_group,
            "custom_llm_provider": self.custom_llm_provider, "user": self.user,
            "metadata": None if self.metadata is None else Jsonb(self.metadata),
            "request_tags": None if self.request_tags is None else Jsonb(self.request_tags),
            "team_id": self.team_id, "end_user": self.end_user, "status": self.status,
            "mcp_namespaced_tool_name": self.mcp_namespaced_tool_name, "organization_id": self.organization_id,
            "agent_id": self.agent_id, "request_duration_ms": self.duration_ms,
        }


INSERT_LOG = """INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, total_tokens, prompt_tokens,
    completion_tokens, "startTime", "endTime", model, model_group, custom_llm_provider, "user", metadata,
    request_tags, team_id, end_user, status, mcp_namespaced_tool_name, organization_id, agent_id,
    request_duration_ms)
VALUES (%(request_id)s, %(call_type)s, %(api_key)s, %(spend)s, %(total_tokens)s, %(prompt_tokens)s,
    %(completion_tokens)s, %(startTime)s, %(endTime)s, %(model)s, %(model_group)s, %(custom_llm_provider)s,
    %(user)s, %(metadata)s, %(request_tags)s, %(team_id)s, %(end_user)s, %(status)s,
    %(mcp_namespaced_tool_name)s, %(organization_id)s, %(agent_id)s, %(request_duration_ms)s)"""


def insert_logs(conn: Any, logs: Sequence[Log]) -> None:
    if logs:
        with conn.cursor() as cur:
            cur.executemany(INSERT_LOG, [log.row() for log in logs])


# -- strategies ---------------------------------------------------------------------------------

COUNTS = st.sampled_from([ABSENT, None, 0, 7, 1024.9, -3, 2.0, True, False, "5", [1]])


def _usage() -> st.SearchStrategy[Any]:
    details = st.one_of(
        st.sampled_from([ABSENT, "x", {}, [1]]),
        st.fixed_dictionaries({}, optional={"cached_tokens": COUNTS, "cache_write_tokens": COUNTS,
                                            "cache_creation_tokens": COUNTS}),
    )
    obj = st.fixed_dictionaries({}, optional={
        "cache_read_input_tokens": COUNTS, "cache_creation_input_tokens": COUNTS, "prompt_tokens_details": details,
        "prompt_tokens": st.integers(0, 100)})
    return st.one_of(obj, st.sampled_from([ABSENT, None, "x", 5, [1], True, "", 0, [], False, {}]))


def _guardrail_entry() -> st.SearchStrategy[Any]:
    saved = st.sampled_from([5, 2.7, -3, True, "9", None, 0])
    return st.one_of(
        st.fixed_dictionaries({"guardrail_provider": st.sampled_from(["headroom", "other", "Headroom"]),
                               "guardrail_response": st.one_of(st.fixed_dictionaries({"tokens_saved": saved}),
                                                               st.sampled_from(["x", [5]]))}),
        st.sampled_from(["headroom", 3, None]),
    )


def _metadata() -> st.SearchStrategy[Any]:
    obj = st.fixed_dictionaries({}, optional={
        "usage_object": _usage(),
        "internal_call_origin": st.sampled_from([None, "", "guardrail", "false", "0", 0, 1, 0.0, 2.5, True, False,
                                                 [], [0], {}, {"a": None}]),
        "billed_retry_attempt": st.sampled_from([True, "true", False, 1, None]),
        "status": st.sampled_from(["success", "failure", "FAILURE", None, 1]),
        "compression_savings": st.one_of(st.fixed_dictionaries({"tokens_saved": st.sampled_from(
            [5, 2.7, -3, True, "9", None, 1000])}), st.sampled_from(["x", [1]])),
        "guardrail_information": st.one_of(_guardrail_entry(), st.lists(_guardrail_entry(), max_size=3)),
        "user_api_key_alias": st.just("alias"),
    }).map(_drop_absent)
    not_an_object = st.sampled_from([None, [], "text", 1])
    return st.one_of(obj, obj, obj, obj, obj, not_an_object)  # mostly objects


def _drop_absent(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_absent(v) for k, v in value.items() if v is not ABSENT}
    if isinstance(value, list):
        return [_drop_absent(v) for v in value if v is not ABSENT]
    return value


TAGS = st.sampled_from([None, [], ["x"], ["x", "x", "y"], [""], ["x", 1], [None], [True], "x", {"a": 1},
                        ["y", "z"], ["é", "x"]])
MS_PER_DAY = 86_400_000
START_MS = st.one_of(
    st.integers(0, DAYS * MS_PER_DAY - 1),
    st.sampled_from([0, MS_PER_DAY - 1, MS_PER_DAY, 2 * MS_PER_DAY - 1, 2 * MS_PER_DAY, DAYS * MS_PER_DAY - 1]),
)


@st.composite
def logs(draw: st.DrawFn, max_size: int = 25) -> list[Log]:
    """Spend logs over DAYS UTC days from FIRST_DAY, with every flag and shape the rules distinguish."""
    count = draw(st.integers(0, max_size))
    result = []
    for i in range(count):
        start = FIRST_DAY + timedelta(milliseconds=draw(START_MS))
        duration = draw(st.sampled_from([None, -1, 0, 150, 2500]))
        end = start + timedelta(milliseconds=draw(st.sampled_from([0, 5, 40])) if duration is None or duration < 0
                                else duration)
        result.append(Log(
            request_id=f"{draw(st.sampled_from(['a', 'B', 'z', 'é']))}-{i:03d}",
            call_type=draw(st.sampled_from(sorted(ENDPOINTS))),
            start=start, end=end, duration_ms=duration,
            api_key=draw(st.sampled_from(["", "k1", "k2"])),
            model=draw(st.sampled_from(["", "gpt", "claude"])),
            custom_llm_provider=draw(st.sampled_from([None, "", "openai"])),
            mcp_namespaced_tool_name=draw(st.sampled_from([None, None, "", "srv/tool"])),
            model_group=draw(st.sampled_from([None, "", "g1", "g2"])),
            user=draw(st.sampled_from([None, "", "u1", "u2"])),
            team_id=draw(st.sampled_from([None, "", "t1"])),
            organization_id=draw(st.sampled_from([None, "", "o1"])),
            end_user=draw(st.sampled_from([None, "", "e1"])),
            agent_id=draw(st.sampled_from([None, "", "a1"])),
            request_tags=draw(TAGS),
            metadata=draw(_metadata()),
            status=draw(st.sampled_from([None, "success", "failure"])),
            spend=draw(st.sampled_from([0.0, 0.1, 1e-7, 2.5, 1234.5678])),
            prompt_tokens=draw(st.integers(0, 1000)),
            completion_tokens=draw(st.integers(0, 1000)),
        ))
    return result


# -- the reference ------------------------------------------------------------------------------


def _number(value: Any) -> bool:
    """A JSON number or boolean, as Python's isinstance(v, (int, float)) sees it."""
    return isinstance(value, (int, float))


def cache_read(usage: Any) -> int:
    if not usage:
        return 0
    top = usage.get("cache_read_input_tokens")
    if _number(top) and top:
        return int(top)
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return int(cached) if _number(cached) else 0


def cache_creation(usage: Any) -> int:
    if not usage:
        return 0
    top = usage.get("cache_creation_input_tokens")
    if _number(top) and top:
        return int(top)
    details = usage.get("prompt_tokens_details")
    if not isinstance(details, dict):
        return 0
    for name in ("cache_write_tokens", "cache_creation_tokens"):
        value = details.get(name)
        if _number(value) and value:
            return int(value)
    return 0


def _saved(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return 0
    return int(value)


def compression_saved(metadata: dict[str, Any]) -> int:
    stats = metadata.get("compression_savings")
    total = _saved(stats.get("tokens_saved")) if isinstance(stats, dict) else 0
    info = metadata.get("guardrail_information")
    entries = [info] if isinstance(info, dict) else info if isinstance(info, list) else []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("guardrail_provider") == "headroom":
            response = entry.get("guardrail_response")
            total += _saved(response.get("tokens_saved")) if isinstance(response, dict) else 0
    return total


@dataclass
class RefRow:
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(INT_COUNTERS, 0))
    spend: float = 0.0
    writer: tuple[datetime, str, str | None] | None = None  # (endTime, request_id, model_group)


def entity_ids(log: Log) -> dict[str, list[str]]:
    """Which row of which table one request feeds."""
    ids: dict[str, list[str]] = {"user": [log.user or ""]}
    if log.team_id is not None:
        ids["team"] = [log.team_id]
    if log.organization_id:
        ids["org"] = [log.organization_id]
    if log.end_user:
        ids["end_user"] = [log.end_user]
    if log.agent_id is not None:
        ids["agent"] = [log.agent_id]
    tags = log.request_tags
    if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        ids["tag"] = list(dict.fromkeys(tags))
    return ids


Key = tuple[str, str, str, str, str, str, str, str]  # table, entity, date, api_key, model, provider, mcp, endpoint


def reference(all_logs: Iterable[Log]) -> dict[Key, RefRow]:
    """The six daily tables as LiteLLM would have written them from these requests."""
    rows: dict[Key, RefRow] = {}
    for log in all_logs:
        metadata = log.metadata
        if not isinstance(metadata, dict):
            continue
        usage = metadata.get("usage_object")
        if usage and not isinstance(usage, dict):
            continue
        internal = bool(metadata.get("internal_call_origin"))
        billed_retry = metadata.get("billed_retry_attempt") is True
        failed = metadata.get("status") == "failure"
        caller = not internal and not billed_retry
        timed = not failed and not internal and log.duration_ms is not None and log.duration_ms >= 0
        add = {
            "prompt_tokens": log.prompt_tokens, "completion_tokens": log.completion_tokens,
            "cache_read_input_tokens": cache_read(usage), "cache_creation_input_tokens": cache_creation(usage),
            "compression_saved_tokens": compression_saved(metadata),
            "api_requests": int(caller), "successful_requests": int(caller and not failed),
            "failed_requests": int(caller and failed),
            "total_response_time_ms": log.duration_ms if timed else 0, "timed_requests": int(timed),
        }
        common = (log.start.strftime("%Y-%m-%d"), log.api_key, log.model, log.custom_llm_provider or "",
                  log.mcp_namespaced_tool_name or "", ENDPOINTS.get(log.call_type, ""))
        writer = (log.end, log.request_id, log.model_group)
        for table, ids in entity_ids(log).items():
            for entity in ids:
                row = rows.setdefault((table, entity, *common), RefRow())
                for name, value in add.items():
                    row.counters[name] += value
                row.spend += log.spend
                if row.writer is None or (writer[0], writer[1].encode()) < (row.writer[0], row.writer[1].encode()):
                    row.writer = writer
    return rows


def stored(conn: Any) -> dict[Key, dict[str, Any]]:
    """Every daily row, by its key with '' for NULL (legacy duplicates would collide: asserted)."""
    result: dict[Key, dict[str, Any]] = {}
    for name, (table, entity) in TABLES.items():
        for row in conn.execute(f'SELECT *, "{entity}" AS entity_id FROM "{table}"').fetchall():
            key = (name, row["entity_id"] or "", row["date"], row["api_key"], row["model"] or "",
                   row["custom_llm_provider"] or "", row["mcp_namespaced_tool_name"] or "", row["endpoint"] or "")
            assert key not in result, f"two stored rows for {key}"
            result[key] = row
    return result


def assert_matches_reference(conn: Any, expected: dict[Key, RefRow], *, model_group: bool = True,
                             ignore_api_key: str | None = None) -> None:
    """Every stored row is a reference row with the same counters (and first-writer model_group)."""
    actual = {k: v for k, v in stored(conn).items() if k[3] != ignore_api_key}
    assert set(actual) == set(expected), (sorted(set(actual) - set(expected)), sorted(set(expected) - set(actual)))
    for key, ref in expected.items():
        row = actual[key]
        assert {n: row[n] for n in INT_COUNTERS} == ref.counters, key
        assert math.isclose(row["spend"], ref.spend, rel_tol=1e-9, abs_tol=1e-9), (key, row["spend"], ref.spend)
        if model_group:
            assert ref.writer is not None and row["model_group"] == ref.writer[2], (key, row["model_group"], ref.writer)
            if key[0] == "tag":
                assert row["request_id"] == ref.writer[1], key


def plain_logs(seed: int, first_day: datetime, days: int, per_day: int, *, prefix: str = "r") -> list[Log]:
    """Ordinary successful and failed requests (no odd shapes), `per_day` on each of `days` UTC days."""
    import random

    rng = random.Random(seed)
    result = []
    for day in range(days):
        for i in range(per_day):
            start = first_day + timedelta(days=day, milliseconds=rng.randrange(MS_PER_DAY))
            failed = rng.random() < 0.05
            metadata: dict[str, Any] = {"status": "failure" if failed else "success",
                                        "usage_object": {"prompt_tokens": 10,
                                                         "prompt_tokens_details": {"cached_tokens": rng.randrange(5)}}}
            if rng.random() < 0.05:
                metadata["internal_call_origin"] = "guardrail"
            result.append(Log(
                request_id=f"{prefix}-{day}-{i:05d}", call_type=rng.choice(["acompletion", "aresponses", "aembedding"]),
                start=start, end=start + timedelta(milliseconds=300), duration_ms=300,
                api_key=rng.choice(["k1", "k2", "k3"]), model=rng.choice(["gpt", "claude"]),
                custom_llm_provider=rng.choice(["openai", "anthropic"]), mcp_namespaced_tool_name=None,
                model_group=rng.choice(["g1", "g2"]), user=rng.choice(["u1", "u2", None]),
                team_id=rng.choice(["t1", ""]), organization_id=rng.choice(["o1", ""]),
                end_user=rng.choice(["e1", "e2", "", None]), agent_id=rng.choice([None, None, "a1"]),
                request_tags=rng.choice([[], ["x"], ["x", "y"]]), metadata=metadata,
                status="failure" if failed else "success", spend=0.0 if failed else rng.random() / 100,
                prompt_tokens=rng.randrange(1000), completion_tokens=rng.randrange(500),
            ))
    return result
