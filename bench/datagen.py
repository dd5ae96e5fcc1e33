"""Realistic LiteLLM spend data for benchmarks and tests: spend logs, the six daily tables, entities.

    python bench/datagen.py --database-url postgresql://postgres@127.0.0.1/dbctl_bench_10m --rows 10000000 --days 60

or, from Python (bench scripts put bench/ on sys.path):

    from datagen import generate
    result = generate(url, rows=10_000, days=14, seed=7)

What it writes (the database is created and migrated to LiteLLM's head first when needed):
- `LiteLLM_SpendLogs`: `rows` requests over `days` UTC days ending at `end` (default now; today is
  filled up to `end`), in startTime order, more on weekdays and around midday UTC, slowly growing.
  Keys, models, users and tags follow skewed (power-law-like) distributions. Per request: call_type
  acompletion / aresponses / anthropic_messages / aembedding; ~3% failures (metadata.status =
  'failure' and the status column, with error_information, spend 0); ~1% internal calls
  (metadata.internal_call_origin); ~0.7% billed retries (metadata.billed_retry_attempt = true);
  cache tokens in metadata.usage_object, top-level `cache_read_input_tokens` /
  `cache_creation_input_tokens` for Anthropic-style providers and
  `prompt_tokens_details.cached_tokens` for OpenAI-style ones; request_duration_ms; end users,
  agents, sessions; request_tags as JSON arrays (some with a tag twice); a few with payloads.
- The six daily tables (user, team, organization, end user, agent, tag), built from those logs with
  LiteLLM 1.109.1's rules (reference §1.2-1.4, §1.9): UTC date of startTime, '' for missing key
  parts, the endpoint from call_type, request counters excluding internal calls and billed retries,
  one tag row per distinct tag carrying the request's full spend. So on fresh generated data the
  daily tables equal LiteLLM's own aggregation of the logs (savings columns are 0).
- `LiteLLM_VerificationToken`, `LiteLLM_UserTable`, `LiteLLM_TeamTable`, `LiteLLM_OrganizationTable`
  (+ one `LiteLLM_BudgetTable` row per org), `LiteLLM_EndUserTable`, `LiteLLM_AgentsTable` rows for
  every entity the logs use, with `spend` set to what the logs add up to.
- LiteLLM's two request-log indexes (`api_key, startTime` and `litellm_call_id`), which a serving
  proxy builds outside migrations.

The spend logs and daily tables are TRUNCATEd first (the generator owns its database); entity rows
are upserted by deterministic ids. Everything is generated server-side: one statement and one
transaction per UTC day (`INSERT ... SELECT ... FROM generate_series ... RETURNING` feeding that
day's `INSERT ... SELECT ... GROUP BY` into the daily tables), days spread over `workers`
connections. The indexes of the loaded tables are dropped for the load and rebuilt afterwards (also
when the load fails), which halves the time. The same (rows, days, seed, end) gives the same data.
Entity counts scale with `rows` (see `Shape.for_rows`): 10M rows use 3000 keys, 400 users, 30 teams,
10 orgs, 30 models, 24 tags, 2000 end users, 12 agents.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

# -- the shape of the world -----------------------------------------------------------------------

# model, provider, model_group, price per 1M input / output tokens (USD), kind, cache shape, failure rate
MODELS: tuple[tuple[str, str, str, float, float, str, str, float], ...] = (
    ("gpt-4o-mini", "openai", "gpt-4o-mini", 0.15, 0.60, "chat", "details", 0.02),
    ("gpt-4o", "openai", "gpt-4o", 2.50, 10.0, "chat", "details", 0.025),
    ("claude-sonnet-4-5-20250929", "anthropic", "claude-sonnet-4-5", 3.0, 15.0, "chat", "top", 0.03),
    ("text-embedding-3-small", "openai", "text-embedding-3-small", 0.02, 0.0, "embedding", "none", 0.005),
    ("gpt-4o", "azure", "gpt-4o", 2.50, 10.0, "chat", "details", 0.04),
    ("claude-haiku-4-5-20251001", "anthropic", "claude-haiku-4-5", 1.0, 5.0, "chat", "top", 0.02),
    ("gemini-2.5-flash", "vertex_ai", "gemini-2.5-flash", 0.30, 2.50, "chat", "details", 0.03),
    ("gpt-4.1-mini", "openai", "gpt-4.1-mini", 0.40, 1.60, "chat", "details", 0.02),
    ("gpt-4.1", "openai", "gpt-4.1", 2.0, 8.0, "chat", "details", 0.02),
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "bedrock", "claude-sonnet-4-5", 3.0, 15.0, "chat", "top", 0.05),
    ("gemini-2.5-pro", "vertex_ai", "gemini-2.5-pro", 1.25, 10.0, "chat", "details", 0.04),
    ("o4-mini", "openai", "o4-mini", 1.10, 4.40, "chat", "details", 0.03),
    ("text-embedding-3-large", "openai", "text-embedding-3-large", 0.13, 0.0, "embedding", "none", 0.005),
    ("claude-opus-4-1-20250805", "anthropic", "claude-opus-4-1", 15.0, 75.0, "chat", "top", 0.04),
    ("o3", "openai", "o3", 2.0, 8.0, "chat", "details", 0.03),
    ("llama-3.3-70b-versatile", "groq", "llama-3.3-70b", 0.59, 0.79, "chat", "none", 0.06),
    ("mistral-large-latest", "mistral", "mistral-large", 2.0, 6.0, "chat", "none", 0.03),
    ("deepseek-chat", "deepseek", "deepseek-chat", 0.27, 1.10, "chat", "details", 0.05),
    ("gpt-4o-mini", "azure", "gpt-4o-mini", 0.15, 0.60, "chat", "details", 0.03),
    ("embed-english-v3.0", "cohere", "embed-english-v3", 0.10, 0.0, "embedding", "none", 0.01),
    ("grok-3", "xai", "grok-3", 3.0, 15.0, "chat", "none", 0.04),
    ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "together_ai", "llama-3.3-70b", 0.88, 0.88, "chat", "none", 0.05),
    ("gemini-2.0-flash", "gemini", "gemini-2.0-flash", 0.10, 0.40, "chat", "details", 0.03),
    ("command-r-plus", "cohere", "command-r-plus", 2.5, 10.0, "chat", "none", 0.03),
    ("gpt-5", "openai", "gpt-5", 1.25, 10.0, "chat", "details", 0.02),
    ("gpt-5-mini", "openai", "gpt-5-mini", 0.25, 2.0, "chat", "details", 0.02),
    ("claude-3-5-haiku-20241022", "anthropic", "claude-3-5-haiku", 0.80, 4.0, "chat", "top", 0.02),
    ("amazon.titan-embed-text-v2:0", "bedrock", "titan-embed-v2", 0.02, 0.0, "embedding", "none", 0.01),
    ("codestral-latest", "mistral", "codestral", 0.30, 0.90, "chat", "none", 0.03),
    ("qwen-2.5-72b-instruct", "openrouter", "qwen-2.5-72b", 0.35, 0.40, "chat", "none", 0.06),
)
API_BASES = {
    "openai": "https://api.openai.com/v1", "azure": "https://corp-eastus.openai.azure.com/",
    "anthropic": "https://api.anthropic.com", "vertex_ai": "https://us-central1-aiplatform.googleapis.com",
    "bedrock": "https://bedrock-runtime.us-east-1.amazonaws.com", "groq": "https://api.groq.com/openai/v1",
    "mistral": "https://api.mistral.ai/v1", "deepseek": "https://api.deepseek.com", "cohere": "https://api.cohere.ai",
    "xai": "https://api.x.ai/v1", "together_ai": "https://api.together.xyz/v1",
    "gemini": "https://generativelanguage.googleapis.com", "openrouter": "https://openrouter.ai/api/v1",
}
TEAM_NAMES = ("search", "payments", "support", "growth", "platform", "data-science", "mobile", "web", "security",
              "infra", "marketing", "sales-eng", "legal-ai", "research", "billing", "docs", "identity", "ads",
              "recsys", "fraud", "ml-platform", "analytics", "voice", "translation", "onboarding", "checkout",
              "logistics", "hr-tools", "finance", "compliance")
ORG_NAMES = ("acme-corp", "globex", "initech", "umbrella", "hooli", "stark-industries", "wayne-enterprises",
             "cyberdyne", "soylent", "tyrell")
FIRST = ("ada", "alan", "grace", "linus", "margaret", "ken", "barbara", "dennis", "frances", "john", "radia",
         "tim", "sophie", "guido", "anita", "donald", "edsger", "hedy", "katherine", "niklaus")
LAST = ("lovelace", "turing", "hopper", "torvalds", "hamilton", "thompson", "liskov", "ritchie", "allen", "backus",
        "perlman", "berners-lee", "wilson", "van-rossum", "borg", "knuth", "dijkstra", "lamarr", "johnson", "wirth")
SERVICES = ("chatbot", "summarizer", "rag", "classifier", "agent", "batch", "eval", "copilot", "etl", "notebook")
TAGS = ("env:prod", "env:staging", "app:chatbot", "app:search", "feature:summarize", "feature:rag",
        "User-Agent: OpenAI/Python 1.109.1", "User-Agent: curl/8.5.0", "priority:high", "priority:low",
        "experiment:a", "experiment:b", "cost-center:1001", "cost-center:2002", "customer-facing", "internal",
        "batch", "realtime", "region:eu", "region:us", "pii", "eval", "team-override", "beta")
AGENT_NAMES = ("support-bot", "code-reviewer", "sql-analyst", "travel-planner", "triage-agent", "research-agent",
               "email-drafter", "onboarding-guide", "incident-helper", "pricing-agent", "qa-agent", "scheduler")
ERRORS = (("429", "RateLimitError", "Rate limit reached for requests"),
          ("500", "InternalServerError", "The server had an error while processing your request"),
          ("400", "BadRequestError", "This model's maximum context length is exceeded"),
          ("408", "Timeout", "Request timed out"))


@dataclass(frozen=True)
class Shape:
    """How many of each entity a run uses; scaled with `rows` so small test sets stay meaningful."""

    keys: int
    users: int
    teams: int
    orgs: int
    models: int
    tags: int
    end_users: int
    agents: int

    @staticmethod
    def for_rows(rows: int) -> Shape:
        def scale(divisor: int, low: int, high: int) -> int:
            return max(low, min(high, rows // divisor))

        return Shape(keys=scale(3000, 12, 3000), users=scale(25000, 8, 400), teams=scale(250000, 4, 30),
                     orgs=scale(1000000, 2, 10), models=scale(300000, 6, len(MODELS)),
                     tags=scale(400000, 8, len(TAGS)), end_users=scale(5000, 10, 2000),
                     agents=scale(800000, 3, len(AGENT_NAMES)))


@dataclass(frozen=True)
class Entities:
    orgs: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    users: list[dict[str, Any]]
    keys: list[dict[str, Any]]
    end_users: list[dict[str, Any]]
    agents: list[dict[str, Any]]
    models: list[dict[str, Any]]
    tags: list[str]


@dataclass(frozen=True)
class Result:
    rows: int
    days: int
    start: datetime
    end: datetime
    seconds: float
    daily_rows: dict[str, int]
    shape: Shape
    phases: dict[str, float]  # seconds per phase: setup, load, indexes, finish

    @property
    def rows_per_minute(self) -> float:
        return self.rows / self.seconds * 60 if self.seconds else 0.0


def _hex_id(seed: int, kind: str, number: int, length: int = 32) -> str:
    return hashlib.sha256(f"datagen:{seed}:{kind}:{number}".encode()).hexdigest()[:length]


def _uuid(seed: int, kind: str, number: int) -> str:
    h = _hex_id(seed, kind, number)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def build_entities(shape: Shape, seed: int) -> Entities:
    """Orgs, teams, users, keys, end users, agents: deterministic from the seed."""
    rng = random.Random(seed)
    orgs = [{"organization_id": _uuid(seed, "org", n), "organization_alias": ORG_NAMES[n % len(ORG_NAMES)]
             + ("" if n < len(ORG_NAMES) else f"-{n}"), "budget_id": _uuid(seed, "orgbudget", n)}
            for n in range(shape.orgs)]
    teams = []
    for n in range(shape.teams):
        org = orgs[n % len(orgs)]["organization_id"] if n % 5 != 4 else None  # every fifth team has no org
        teams.append({"team_id": _uuid(seed, "team", n), "organization_id": org,
                      "team_alias": TEAM_NAMES[n % len(TEAM_NAMES)] + ("" if n < len(TEAM_NAMES) else f"-{n}"),
                      "max_budget": rng.choice((None, 500.0, 1000.0, 5000.0))})
    users = []
    for n in range(shape.users):
        first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST) + n) % len(LAST)]
        suffix = "" if n < len(FIRST) * len(LAST) else str(n)
        team = teams[rng.randrange(len(teams))]
        users.append({"user_id": _uuid(seed, "user", n),
                      "user_email": None if n % 10 == 9 else f"{first}.{last}{suffix}{n}@example.com",
                      "user_alias": f"{first} {last}".title(), "team_id": team["team_id"],
                      "organization_id": team["organization_id"]})
    keys = []
    for n in range(shape.keys):
        token = hashlib.sha256(f"sk-datagen-{seed}-{n}".encode()).hexdigest()
        user = users[rng.randrange(len(users))] if rng.random() < 0.85 else None
        team_index = rng.randrange(len(teams))
        if user is not None and rng.random() < 0.7:
            team_index = next(i for i, t in enumerate(teams) if t["team_id"] == user["team_id"])
        team = teams[team_index] if rng.random() < 0.8 else None
        alias = (f"{team['team_alias'] if team else 'personal'}-{SERVICES[n % len(SERVICES)]}-"
                 f"{'prod' if n % 3 else 'dev'}-{n}") if rng.random() < 0.75 else None
        model1, model2 = (1 + int(shape.models * rng.random() ** 1.6) for _ in range(2))
        keys.append({"token": token, "key_name": f"sk-...{token[-4:]}", "key_alias": alias,
                     "model1": model1, "model2": model2, "tag_ix": 1 + int(shape.tags * rng.random() ** 1.5),
                     "user_id": user["user_id"] if user else None, "user_email": user["user_email"] if user else None,
                     "team_id": team["team_id"] if team else None, "team_alias": team["team_alias"] if team else None,
                     "organization_id": team["organization_id"] if team else None})
    end_users = [{"user_id": f"cust-{n:05d}", "alias": f"Customer {n}" if n % 3 == 0 else None}
                 for n in range(1, shape.end_users + 1)]
    # agent_name is unique in LiteLLM: the id follows the name, whatever the seed
    agents = [{"agent_id": _uuid(0, "agent", n), "agent_name": AGENT_NAMES[n]} for n in range(shape.agents)]
    models = [{"model": m[0], "provider": m[1], "model_group": m[2], "price_in": m[3], "price_out": m[4],
               "kind": m[5], "cache_shape": m[6], "fail_rate": m[7], "model_id": _hex_id(seed, "model", n, 16),
               "api_base": API_BASES[m[1]]} for n, m in enumerate(MODELS[:shape.models])]
    return Entities(orgs, teams, users, keys, end_users, agents, models, list(TAGS[:shape.tags]))


# -- the days -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    index: int
    date: date
    start: datetime  # naive UTC, as LiteLLM stores startTime
    span_ms: int  # the part of the day that gets requests (today: up to `end`)
    rows: int


def plan_days(rows: int, days: int, end: datetime) -> list[Day]:
    """Split `rows` over the UTC days ending at `end`: weekday/weekend rhythm, slow growth, exact total."""
    end = end.astimezone(timezone.utc).replace(tzinfo=None)
    last = end.date()
    spans, weights = [], []
    for index in range(days):
        day = last - timedelta(days=days - 1 - index)
        start = datetime.combine(day, datetime.min.time())
        span = int((end - start).total_seconds() * 1000) if day == last else 86_400_000
        span = max(span, 1)
        weekday = 0.5 if day.weekday() == 6 else 0.55 if day.weekday() == 5 else 1.0
        spans.append((day, start, span))
        weights.append(weekday * (1 + 0.3 * index / max(days - 1, 1)) * span / 86_400_000)
    total = sum(weights)
    exact = [rows * w / total for w in weights]
    counts = [math.floor(x) for x in exact]
    for index in sorted(range(days), key=lambda i: exact[i] - counts[i], reverse=True)[: rows - sum(counts)]:
        counts[index] += 1
    return [Day(i, d, s, span, c) for i, ((d, s, span), c) in enumerate(zip(spans, counts))]


# -- SQL ------------------------------------------------------------------------------------------

CREATE_DIMENSIONS = """
CREATE TEMP TABLE IF NOT EXISTS gen_keys (ix int PRIMARY KEY, token text, key_alias text, user_id text,
    user_email text, team_id text, team_alias text, organization_id text, model1 int, model2 int, tag_ix int);
CREATE TEMP TABLE IF NOT EXISTS gen_models (ix int PRIMARY KEY, model text, model_id text, model_group text,
    provider text, api_base text, price_in float8, price_out float8, kind text, cache_shape text, fail_rate float8);
TRUNCATE gen_keys, gen_models;
"""

# One UTC day of spend logs, RETURNING what the daily tables need. `g` draws the random numbers once
# per row (OFFSET 0 keeps it from being inlined, so each draw is evaluated once); a key sends most of
# its requests to its own one or two models; `r` derives the request; the outer SELECT renders it.
INSERT_LOGS = """
INSERT INTO "LiteLLM_SpendLogs" (
    request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens,
    "startTime", "endTime", "completionStartTime", request_duration_ms, model, model_id, model_group,
    custom_llm_provider, api_base, "user", metadata, cache_hit, cache_key, request_tags, team_id,
    organization_id, end_user, requester_ip_address, messages, response, proxy_server_request, session_id,
    status, agent_id, litellm_call_id)
SELECT
    r.request_id, r.call_type, r.token, r.spend, r.prompt + r.completion, r.prompt, r.completion,
    r.start, r.start + r.duration_ms * interval '1 millisecond',
    CASE WHEN r.kind = 'chat' AND NOT r.failed THEN r.start + (r.duration_ms * 0.3)::int * interval '1 millisecond' END,
    r.duration_ms, r.model, r.model_id, r.model_group, r.provider, r.api_base, COALESCE(r.user_id, ''),
    jsonb_build_object(
        'user_api_key', r.token, 'user_api_key_alias', r.key_alias, 'user_api_key_team_id', r.team_id,
        'user_api_key_org_id', r.organization_id, 'user_api_key_user_id', r.user_id,
        'user_api_key_team_alias', r.team_alias, 'user_api_key_user_email', r.user_email,
        'user_api_key_end_user_id', NULLIF(r.end_user, ''), 'spend_logs_metadata', NULL,
        'requester_ip_address', r.ip, 'requester_metadata', '{}'::jsonb, 'status', r.status,
        'usage_object', CASE
            WHEN r.failed THEN NULL
            WHEN r.cache_shape = 'top' THEN jsonb_build_object(
                'prompt_tokens', r.prompt, 'completion_tokens', r.completion, 'total_tokens', r.prompt + r.completion,
                'cache_read_input_tokens', r.cache_read, 'cache_creation_input_tokens', r.cache_creation)
            WHEN r.cache_shape = 'details' THEN jsonb_build_object(
                'prompt_tokens', r.prompt, 'completion_tokens', r.completion, 'total_tokens', r.prompt + r.completion,
                'prompt_tokens_details', jsonb_build_object('cached_tokens', r.cache_read),
                'completion_tokens_details', jsonb_build_object('reasoning_tokens', 0))
            ELSE jsonb_build_object(
                'prompt_tokens', r.prompt, 'completion_tokens', r.completion, 'total_tokens', r.prompt + r.completion)
        END,
        'error_information', CASE WHEN r.failed THEN jsonb_build_object(
            'error_code', (%(error_codes)s::text[])[r.error_ix], 'error_class', (%(error_classes)s::text[])[r.error_ix],
            'llm_provider', r.provider, 'error_message', (%(error_messages)s::text[])[r.error_ix]) END,
        'additional_usage_values', '{}'::jsonb)
    || CASE WHEN r.u_flag < 0.01 THEN jsonb_build_object('internal_call_origin',
                CASE WHEN r.u_flag < 0.006 THEN 'guardrail' ELSE 'background_cost_poll' END)
            WHEN r.u_flag < 0.017 THEN jsonb_build_object('billed_retry_attempt', true)
            ELSE '{}'::jsonb END,
    'None', '',
    CASE WHEN r.u_tags < 0.35 THEN '[]'::jsonb
         WHEN r.u_tags < 0.75 THEN jsonb_build_array(r.tag1)
         WHEN r.u_tags < 0.97 THEN jsonb_build_array(r.tag1, r.tag2)
         ELSE jsonb_build_array(r.tag1, r.tag2, r.tag1) END,
    COALESCE(r.team_id, ''), COALESCE(r.organization_id, ''), r.end_user, r.ip,
    CASE WHEN r.with_payload THEN jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'Question ' || r.i))
         ELSE '{}'::jsonb END,
    CASE WHEN r.with_payload THEN jsonb_build_object('id', 'chatcmpl-' || r.request_id, 'object', 'chat.completion',
            'choices', jsonb_build_array(jsonb_build_object('index', 0, 'finish_reason', 'stop',
                'message', jsonb_build_object('role', 'assistant', 'content', 'Answer ' || r.i))))
         ELSE '{}'::jsonb END,
    '{}'::jsonb, r.session_id, r.status, r.agent_id, r.litellm_call_id
FROM (
    SELECT gk.*, m.model, m.model_id, m.model_group, m.provider, m.api_base, m.kind, m.cache_shape,
        gk.u_fail < m.fail_rate AS failed,
        CASE WHEN gk.u_fail < m.fail_rate THEN 'failure' ELSE 'success' END AS status,
        CASE WHEN m.kind = 'embedding' THEN 'aembedding'
             WHEN gk.u_call < 0.80 THEN 'acompletion'
             WHEN gk.u_call < 0.93 OR m.cache_shape <> 'top' THEN 'aresponses'
             ELSE 'anthropic_messages' END AS call_type,
        p.prompt, p.completion, p.cache_read, p.cache_creation,
        CASE WHEN gk.u_fail < m.fail_rate THEN 0 ELSE ((p.prompt - p.cache_read) * m.price_in
            + p.cache_read * m.price_in * 0.1 + p.cache_creation * m.price_in * 1.25
            + p.completion * m.price_out) / 1e6 END AS spend,
        least(600000, CASE WHEN m.kind = 'embedding' THEN floor(exp(4.6 + 0.5 * gk.z3))
                           ELSE floor(exp(6.9 + 0.7 * gk.z3) + p.completion * 6) END)::int AS duration_ms,
        1 + floor(gk.u_fail * 1000)::int %% 4 AS error_ix,
        (%(tags)s::text[])[gk.tag1_ix] AS tag1, (%(tags)s::text[])[gk.tag2_ix] AS tag2,
        CASE WHEN gk.key_ix %% 4 = 1 AND gk.u_end < 0.8 THEN 'cust-' || lpad((1 + floor(%(n_end_users)s * power(gk.u_end / 0.8, 1.7)))::int::text, 5, '0')
             ELSE '' END AS end_user,
        CASE WHEN gk.u_agent < 0.06 THEN (%(agent_ids)s::text[])[1 + floor(gk.u_agent / 0.06 * %(n_agents)s)::int] END AS agent_id,
        CASE WHEN gk.u_session < 0.2 THEN 'sess-' || %(day_index)s || '-' || floor(gk.u_session * 2500)::int END AS session_id,
        '10.' || (gk.key_ix %% 200) || '.' || (gk.key_ix %% 7) || '.' || (1 + gk.key_ix %% 250) AS ip,
        gk.u_payload < 0.05 AS with_payload,
        md5(%(id_prefix)s || gk.i)::uuid::text AS request_id,
        md5(%(id_prefix)s || 'call' || gk.i)::uuid::text AS litellm_call_id
    FROM (
        SELECT g.*, k.token, k.key_alias, k.user_id, k.user_email, k.team_id, k.team_alias, k.organization_id,
            CASE WHEN g.u_model < 0.75 THEN k.model1 WHEN g.u_model < 0.92 THEN k.model2 ELSE g.any_model_ix END AS model_ix,
            CASE WHEN g.u_tag_key < 0.8 THEN k.tag_ix ELSE g.any_tag_ix END AS tag1_ix
        FROM (
            SELECT i,
                %(day_start)s::timestamp + floor(%(span_ms)s * (x - 0.6 * sin(2 * pi() * x) / (2 * pi())))
                    * interval '1 millisecond' AS start,
                1 + floor(%(n_keys)s * power(random(), 2.2))::int AS key_ix,
                1 + floor(%(n_models)s * power(random(), 1.6))::int AS any_model_ix,
                1 + floor(%(n_tags)s * power(random(), 1.5))::int AS any_tag_ix,
                1 + floor(%(n_tags)s * random())::int AS tag2_ix,
                random() AS u_model, random() AS u_tag_key, random() AS u_call, random() AS u_fail, random() AS u_flag, random() AS u_cache,
                random() AS u_tags, random() AS u_end, random() AS u_agent, random() AS u_session, random() AS u_payload,
                sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z1,
                sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z2,
                sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z3
            FROM generate_series(1, %(n)s) AS i, LATERAL (SELECT (i - 0.5::float8) / %(n)s AS x) AS position
            OFFSET 0
        ) AS g
        JOIN gen_keys AS k ON k.ix = g.key_ix
    ) AS gk
    JOIN gen_models AS m ON m.ix = gk.model_ix
    CROSS JOIN LATERAL (
        SELECT t.prompt, t.completion,
            CASE WHEN m.kind = 'chat' AND m.cache_shape <> 'none' AND gk.u_cache < 0.25
                 THEN floor(t.prompt * (0.3 + 2.4 * gk.u_cache))::int ELSE 0 END AS cache_read,
            CASE WHEN m.cache_shape = 'top' AND gk.u_cache >= 0.25 AND gk.u_cache < 0.32
                 THEN floor(t.prompt * 0.5)::int ELSE 0 END AS cache_creation
        FROM (SELECT
            CASE WHEN gk.u_fail < m.fail_rate THEN 0
                 WHEN m.kind = 'embedding' THEN least(8000, greatest(1, floor(exp(4.5 + 1.0 * gk.z1))))::int
                 ELSE least(200000, greatest(1, floor(exp(6.2 + 1.1 * gk.z1))))::int END AS prompt,
            CASE WHEN gk.u_fail < m.fail_rate OR m.kind = 'embedding' THEN 0
                 ELSE least(16000, floor(exp(5.0 + 1.0 * gk.z2)))::int END AS completion) AS t
    ) AS p
) AS r
"""
RETURNING = """
RETURNING request_id, call_type, api_key, model, model_group, custom_llm_provider, mcp_namespaced_tool_name,
    "user", team_id, organization_id, end_user, agent_id, request_tags, prompt_tokens, completion_tokens, spend,
    metadata, request_duration_ms
"""

# The six daily tables from one day's logs (`logs`: the INSERT above, or a scan of a stored day), by
# LiteLLM's rules (reference §1.2-1.4, §1.9) for the shapes this generator writes.
DAILY_BASE = """
base AS MATERIALIZED (
    SELECT request_id, api_key, model, model_group,
        COALESCE(custom_llm_provider, '') AS provider,
        COALESCE(mcp_namespaced_tool_name, '') AS mcp,
        CASE call_type WHEN 'acompletion' THEN '/chat/completions' WHEN 'aembedding' THEN '/embeddings'
                       WHEN 'aresponses' THEN '/responses' ELSE '' END AS endpoint,
        COALESCE("user", '') AS user_id, team_id, organization_id, end_user, agent_id, request_tags,
        prompt_tokens::bigint AS prompt, completion_tokens::bigint AS completion, spend,
        COALESCE(NULLIF((metadata -> 'usage_object' ->> 'cache_read_input_tokens')::bigint, 0),
                 (metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cached_tokens')::bigint, 0) AS cache_read,
        COALESCE(NULLIF((metadata -> 'usage_object' ->> 'cache_creation_input_tokens')::bigint, 0),
                 NULLIF((metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_write_tokens')::bigint, 0),
                 NULLIF((metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_creation_tokens')::bigint, 0),
                 0) AS cache_creation,
        COALESCE(metadata ->> 'internal_call_origin', '') <> '' AS internal,
        COALESCE(metadata -> 'billed_retry_attempt' = 'true'::jsonb, false) AS retry,
        COALESCE(metadata ->> 'status' = 'failure', false) AS failed,
        request_duration_ms
    FROM logs
)"""
DAILY_INSERT = """,
{name} AS (
    INSERT INTO "{table}" (id, "{entity}", date, api_key, model, model_group, custom_llm_provider,
        mcp_namespaced_tool_name, endpoint, prompt_tokens, completion_tokens, cache_read_input_tokens,
        cache_creation_input_tokens, spend, api_requests, successful_requests, failed_requests,
        total_response_time_ms, timed_requests, updated_at{extra_columns})
    SELECT gen_random_uuid()::text, entity, %(date)s, api_key, model, min(model_group), provider, mcp, endpoint,
        sum(prompt), sum(completion), sum(cache_read), sum(cache_creation), sum(spend),
        count(*) FILTER (WHERE NOT internal AND NOT retry),
        count(*) FILTER (WHERE NOT internal AND NOT retry AND NOT failed),
        count(*) FILTER (WHERE NOT internal AND NOT retry AND failed),
        COALESCE(sum(request_duration_ms) FILTER (WHERE NOT failed AND NOT internal AND request_duration_ms >= 0), 0),
        count(*) FILTER (WHERE NOT failed AND NOT internal AND request_duration_ms >= 0),
        now() AT TIME ZONE 'UTC'{extra_values}
    FROM (SELECT {entity_expr} AS entity, * FROM base {source}) AS b
    {where}
    GROUP BY entity, api_key, model, provider, mcp, endpoint
    RETURNING 1
)"""
DAILY_TABLES = (
    # name, table, entity column, entity expression, extra FROM, WHERE
    ("user_rows", "LiteLLM_DailyUserSpend", "user_id", "user_id", "", ""),
    ("team_rows", "LiteLLM_DailyTeamSpend", "team_id", "team_id", "", "WHERE entity IS NOT NULL"),
    ("org_rows", "LiteLLM_DailyOrganizationSpend", "organization_id", "organization_id", "",
     "WHERE entity IS NOT NULL AND entity <> ''"),
    ("end_user_rows", "LiteLLM_DailyEndUserSpend", "end_user_id", "end_user", "",
     "WHERE entity IS NOT NULL AND entity <> ''"),
    ("agent_rows", "LiteLLM_DailyAgentSpend", "agent_id", "agent_id", "", "WHERE entity IS NOT NULL"),
    ("tag_rows", "LiteLLM_DailyTagSpend", "tag", "t.tag",
     "CROSS JOIN LATERAL (SELECT DISTINCT value AS tag FROM jsonb_array_elements_text("
     "CASE WHEN jsonb_typeof(request_tags) = 'array' THEN request_tags ELSE '[]' END)) AS t", ""),
)


def daily_inserts() -> str:
    parts = []
    for name, table, entity, expr, source, where in DAILY_TABLES:
        tag = table == "LiteLLM_DailyTagSpend"
        parts.append(DAILY_INSERT.format(
            name=name, table=table, entity=entity, entity_expr=expr, source=source, where=where,
            extra_columns=", request_id" if tag else "", extra_values=", min(request_id)" if tag else ""))
    return "".join(parts)


# One statement per day: the logs go in and the daily rows come from what they returned (no re-read).
DAY_STATEMENT = ("WITH logs AS (" + INSERT_LOGS + RETURNING + "),\n" + DAILY_BASE + daily_inserts()
                 + "\nSELECT (SELECT count(*) FROM logs) AS rows")


LOADED_TABLES = ["LiteLLM_SpendLogs", *(row[1] for row in DAILY_TABLES)]
TRUNCATE = sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(t) for t in LOADED_TABLES))

UPSERT_ENTITIES = [
    """INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, created_by, updated_by)
       SELECT unnest(%(budget_ids)s::text[]), NULL, 'datagen', 'datagen'
       ON CONFLICT (budget_id) DO NOTHING""",
    """INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias, budget_id, models,
           created_by, updated_by)
       SELECT o.id, o.alias, o.budget, '{}', 'datagen', 'datagen'
       FROM unnest(%(org_ids)s::text[], %(org_aliases)s::text[], %(budget_ids)s::text[]) AS o(id, alias, budget)
       ON CONFLICT (organization_id) DO UPDATE SET organization_alias = EXCLUDED.organization_alias""",
    """INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, organization_id, admins, members, models, max_budget,
           members_with_roles)
       SELECT t.id, t.alias, t.org, '{}', COALESCE(m.members, '{}'), '{}', t.budget,
           COALESCE(m.roles, '[]'::jsonb)
       FROM unnest(%(team_ids)s::text[], %(team_aliases)s::text[], %(team_orgs)s::text[], %(team_budgets)s::float8[])
           AS t(id, alias, org, budget)
       LEFT JOIN (SELECT u.team, array_agg(u.id ORDER BY u.id) AS members,
                         jsonb_agg(jsonb_build_object('user_id', u.id, 'role', 'user') ORDER BY u.id) AS roles
                  FROM unnest(%(user_ids)s::text[], %(user_teams)s::text[]) AS u(id, team) GROUP BY u.team) AS m
           ON m.team = t.id
       ON CONFLICT (team_id) DO UPDATE SET team_alias = EXCLUDED.team_alias,
           organization_id = EXCLUDED.organization_id, members = EXCLUDED.members,
           members_with_roles = EXCLUDED.members_with_roles""",
    """INSERT INTO "LiteLLM_UserTable" (user_id, user_alias, user_email, team_id, organization_id, teams, user_role,
           models)
       SELECT u.id, u.alias, u.email, u.team, u.org, ARRAY[u.team], 'internal_user', '{}'
       FROM unnest(%(user_ids)s::text[], %(user_aliases)s::text[], %(user_emails)s::text[], %(user_teams)s::text[],
                   %(user_orgs)s::text[]) AS u(id, alias, email, team, org)
       ON CONFLICT (user_id) DO UPDATE SET user_alias = EXCLUDED.user_alias, user_email = EXCLUDED.user_email,
           team_id = EXCLUDED.team_id, organization_id = EXCLUDED.organization_id, teams = EXCLUDED.teams""",
    """INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias, user_id, team_id, organization_id,
           models, created_by, updated_by)
       SELECT k.token, k.name, k.alias, k.user_id, k.team_id, k.org, '{}', 'datagen', 'datagen'
       FROM unnest(%(tokens)s::text[], %(key_names)s::text[], %(key_aliases)s::text[], %(key_users)s::text[],
                   %(key_teams)s::text[], %(key_orgs)s::text[]) AS k(token, name, alias, user_id, team_id, org)
       ON CONFLICT (token) DO UPDATE SET key_name = EXCLUDED.key_name, key_alias = EXCLUDED.key_alias,
           user_id = EXCLUDED.user_id, team_id = EXCLUDED.team_id, organization_id = EXCLUDED.organization_id""",
    """INSERT INTO "LiteLLM_EndUserTable" (user_id, alias)
       SELECT * FROM unnest(%(end_user_ids)s::text[], %(end_user_aliases)s::text[])
       ON CONFLICT (user_id) DO UPDATE SET alias = EXCLUDED.alias""",
    """INSERT INTO "LiteLLM_AgentsTable" (agent_id, agent_name, agent_card_params, created_by, updated_by)
       SELECT a.id, a.name, '{}'::jsonb, 'datagen', 'datagen'
       FROM unnest(%(agent_ids)s::text[], %(agent_names)s::text[]) AS a(id, name)
       ON CONFLICT (agent_name) DO UPDATE SET agent_id = EXCLUDED.agent_id""",
]

# Entity spend counters = what the daily tables add up to (every request is in DailyUserSpend once).
UPDATE_SPEND = [
    """UPDATE "LiteLLM_VerificationToken" AS k SET spend = s.spend, total_spend = s.spend
       FROM (SELECT api_key, sum(spend) AS spend FROM "LiteLLM_DailyUserSpend" GROUP BY api_key) AS s
       WHERE k.token = s.api_key AND k.token = ANY(%(tokens)s::text[])""",
    """UPDATE "LiteLLM_UserTable" AS u SET spend = s.spend
       FROM (SELECT user_id, sum(spend) AS spend FROM "LiteLLM_DailyUserSpend" GROUP BY user_id) AS s
       WHERE u.user_id = s.user_id AND u.user_id = ANY(%(user_ids)s::text[])""",
    """UPDATE "LiteLLM_TeamTable" AS t SET spend = s.spend
       FROM (SELECT team_id, sum(spend) AS spend FROM "LiteLLM_DailyTeamSpend" GROUP BY team_id) AS s
       WHERE t.team_id = s.team_id AND t.team_id = ANY(%(team_ids)s::text[])""",
    """UPDATE "LiteLLM_OrganizationTable" AS o SET spend = s.spend
       FROM (SELECT organization_id, sum(spend) AS spend FROM "LiteLLM_DailyOrganizationSpend"
             GROUP BY organization_id) AS s
       WHERE o.organization_id = s.organization_id AND o.organization_id = ANY(%(org_ids)s::text[])""",
    """UPDATE "LiteLLM_EndUserTable" AS e SET spend = s.spend
       FROM (SELECT end_user_id, sum(spend) AS spend FROM "LiteLLM_DailyEndUserSpend" GROUP BY end_user_id) AS s
       WHERE e.user_id = s.end_user_id AND e.user_id = ANY(%(end_user_ids)s::text[])""",
    """UPDATE "LiteLLM_AgentsTable" AS a SET spend = s.spend
       FROM (SELECT agent_id, sum(spend) AS spend FROM "LiteLLM_DailyAgentSpend" GROUP BY agent_id) AS s
       WHERE a.agent_id = s.agent_id AND a.agent_id = ANY(%(agent_ids)s::text[])""",
]

# LiteLLM builds these outside migrations on a serving proxy (reference §5.4); a real database has them.
REQUEST_LOG_INDEXES = [
    'CREATE INDEX "LiteLLM_SpendLogs_api_key_startTime_idx" ON "LiteLLM_SpendLogs" (api_key, "startTime")',
    'CREATE INDEX "LiteLLM_SpendLogs_litellm_call_id_idx" ON "LiteLLM_SpendLogs" (litellm_call_id)',
]

# Loading into index-less tables and building the indexes afterwards is about twice as fast.
INDEXES = """
SELECT c.relname AS table_name, i.relname AS index_name, pg_get_indexdef(i.oid) AS index_def,
       con.conname AS constraint_name, pg_get_constraintdef(con.oid) AS constraint_def,
       pg_relation_size(c.oid) AS table_size
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_class AS c ON c.oid = x.indrelid
LEFT JOIN pg_constraint AS con ON con.conindid = i.oid AND con.conrelid = c.oid AND con.contype IN ('p', 'u')
WHERE c.relname = ANY(%(tables)s) AND c.relnamespace = current_schema()::regnamespace
"""
CONSTRAINT_EXISTS = """
SELECT 1 FROM pg_constraint AS con JOIN pg_class AS c ON c.oid = con.conrelid
WHERE con.conname = %s AND c.relname = %s AND c.relnamespace = current_schema()::regnamespace
"""


@dataclass(frozen=True)
class Index:
    table: str
    name: str
    definition: str
    constraint: str | None  # a primary key / unique constraint owning the index
    constraint_definition: str | None

    def drop(self) -> sql.Composable:
        if self.constraint:
            return sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                sql.Identifier(self.table), sql.Identifier(self.constraint))
        return sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(self.name))

    def create(self) -> sql.Composable:
        if self.constraint:
            return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(self.table), sql.Identifier(self.constraint), sql.SQL(self.constraint_definition or ""))
        return sql.SQL(self.definition.replace("INDEX ", "INDEX IF NOT EXISTS ", 1))


def drop_indexes(conn: psycopg.Connection, tables: Sequence[str]) -> list[Index]:
    """Drop the indexes (and PK/unique constraints) of `tables`; returns them, biggest table first."""
    rows = conn.execute(INDEXES, {"tables": list(tables)}).fetchall()
    rows.sort(key=lambda r: -r["table_size"])
    found = [Index(r["table_name"], r["index_name"], r["index_def"], r["constraint_name"], r["constraint_def"])
             for r in rows]
    for index in found:
        conn.execute(index.drop())
    return found


def create_indexes(url: str, indexes: Sequence[Index], workers: int) -> None:
    """Build `indexes` over `workers` connections (each statement skips what already exists)."""
    queue = list(indexes)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def build() -> None:
        try:
            with psycopg.connect(url, application_name="datagen", autocommit=True) as conn:
                conn.execute("SET maintenance_work_mem = '512MB'")
                while True:
                    with lock:
                        if not queue:
                            return
                        index = queue.pop(0)
                    if index.constraint and conn.execute(CONSTRAINT_EXISTS, (index.constraint, index.table)).fetchone():
                        continue
                    conn.execute(index.create())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(max(1, workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


# -- running --------------------------------------------------------------------------------------


def entity_params(e: Entities) -> dict[str, Any]:
    return {
        "budget_ids": [o["budget_id"] for o in e.orgs], "org_ids": [o["organization_id"] for o in e.orgs],
        "org_aliases": [o["organization_alias"] for o in e.orgs],
        "team_ids": [t["team_id"] for t in e.teams], "team_aliases": [t["team_alias"] for t in e.teams],
        "team_orgs": [t["organization_id"] for t in e.teams], "team_budgets": [t["max_budget"] for t in e.teams],
        "user_ids": [u["user_id"] for u in e.users], "user_aliases": [u["user_alias"] for u in e.users],
        "user_emails": [u["user_email"] for u in e.users], "user_teams": [u["team_id"] for u in e.users],
        "user_orgs": [u["organization_id"] for u in e.users],
        "tokens": [k["token"] for k in e.keys], "key_names": [k["key_name"] for k in e.keys],
        "key_aliases": [k["key_alias"] for k in e.keys], "key_users": [k["user_id"] for k in e.keys],
        "key_teams": [k["team_id"] for k in e.keys], "key_orgs": [k["organization_id"] for k in e.keys],
        "end_user_ids": [u["user_id"] for u in e.end_users], "end_user_aliases": [u["alias"] for u in e.end_users],
        "agent_ids": [a["agent_id"] for a in e.agents], "agent_names": [a["agent_name"] for a in e.agents],
    }


def _fill_dimensions(conn: psycopg.Connection, e: Entities) -> None:
    conn.execute(CREATE_DIMENSIONS)
    with conn.cursor() as cur:
        with cur.copy("COPY gen_keys FROM STDIN") as copy:
            for ix, k in enumerate(e.keys, 1):
                copy.write_row((ix, k["token"], k["key_alias"], k["user_id"], k["user_email"], k["team_id"],
                                k["team_alias"], k["organization_id"], k["model1"], k["model2"], k["tag_ix"]))
        with cur.copy("COPY gen_models FROM STDIN") as copy:
            for ix, m in enumerate(e.models, 1):
                copy.write_row((ix, m["model"], m["model_id"], m["model_group"], m["provider"], m["api_base"],
                                m["price_in"], m["price_out"], m["kind"], m["cache_shape"], m["fail_rate"]))
    conn.execute("ANALYZE gen_keys")
    conn.execute("ANALYZE gen_models")
    conn.commit()


def _day_params(day: Day, e: Entities, seed: int) -> dict[str, Any]:
    return {
        "day_start": day.start, "day_end": day.start + timedelta(days=1), "span_ms": day.span_ms, "n": day.rows,
        "date": day.date.isoformat(), "day_index": day.index, "id_prefix": f"{seed}:{day.date.isoformat()}:",
        "n_keys": len(e.keys), "n_models": len(e.models), "n_tags": len(e.tags), "tags": e.tags,
        "n_end_users": len(e.end_users), "n_agents": len(e.agents), "agent_ids": [a["agent_id"] for a in e.agents],
        "error_codes": [x[0] for x in ERRORS], "error_classes": [x[1] for x in ERRORS],
        "error_messages": [x[2] for x in ERRORS],
    }


def _setseed(seed: int, day: Day) -> float:
    """A setseed() value in [-1, 1) fixed by (seed, day): each day's rows are reproducible alone."""
    digest = int.from_bytes(hashlib.sha256(f"{seed}:{day.date}".encode()).digest()[:8], "big")
    return digest / 2**63 - 1.0


def _worker(url: str, days: list[Day], lock: threading.Lock, e: Entities, seed: int,
            progress: Callable[[Day, float], None] | None, errors: list[BaseException]) -> None:
    try:
        with psycopg.connect(url, application_name="datagen") as conn:
            conn.execute("SET synchronous_commit = off")
            conn.execute("SET work_mem = '64MB'")
            conn.commit()
            _fill_dimensions(conn, e)
            while True:
                with lock:
                    if not days or errors:
                        return
                    day = days.pop(0)
                started = time.monotonic()
                with conn.transaction():
                    conn.execute("SELECT setseed(%s)", (_setseed(seed, day),))
                    if day.rows:
                        conn.execute(DAY_STATEMENT, _day_params(day, e, seed))
                if progress:
                    progress(day, time.monotonic() - started)
    except BaseException as exc:
        errors.append(exc)


def ensure_database(url: str) -> None:
    """Create the database when missing and migrate it to LiteLLM's head (a no-op when it is there)."""
    from litellm_dbctl.db import config
    from litellm_dbctl.migrate.deploy import deploy
    from litellm_dbctl.migrate.source import load_source

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    deploy(config.parse(url, "datagen"), load_source())


def generate(
    url: str,
    rows: int,
    days: int = 60,
    seed: int = 1,
    *,
    end: datetime | None = None,
    workers: int = 2,
    shape: Shape | None = None,
    request_log_indexes: bool = True,
    progress: Callable[[Day, float], None] | None = None,
) -> Result:
    """Fill the database at `url` with `rows` spend logs over `days` UTC days ending at `end` (default
    now) and everything derived from them. Returns what it wrote and how long it took."""
    if rows < 0 or days < 1:
        raise ValueError("rows must be >= 0 and days >= 1")
    end = (end or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    shape = shape or Shape.for_rows(rows)
    entities = build_entities(shape, seed)
    plan = plan_days(rows, days, end)
    started = time.monotonic()
    phases: dict[str, float] = {}
    clock = [started]

    def lap(name: str) -> None:
        now = time.monotonic()
        phases[name] = now - clock[0]
        clock[0] = now

    ensure_database(url)
    params = entity_params(entities)
    with psycopg.connect(url, application_name="datagen", row_factory=dict_row) as conn:
        conn.execute(TRUNCATE)
        indexes = drop_indexes(conn, LOADED_TABLES)
        for statement in UPSERT_ENTITIES:
            conn.execute(statement, {k: v for k, v in params.items() if f"%({k})s" in statement})
        conn.commit()
    lap("setup")
    try:
        queue = list(plan)  # oldest first, so the table is (nearly) in startTime order on disk
        lock = threading.Lock()
        errors: list[BaseException] = []
        threads = [threading.Thread(target=_worker, args=(url, queue, lock, entities, seed, progress, errors))
                   for _ in range(max(1, min(workers, len(plan))))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        lap("load")
    finally:
        create_indexes(url, indexes, workers)
    with psycopg.connect(url, application_name="datagen", autocommit=True, row_factory=dict_row) as conn:
        for statement in UPDATE_SPEND:
            conn.execute(statement, {k: v for k, v in params.items() if f"%({k})s" in statement})
    if request_log_indexes:
        create_indexes(url, [Index("LiteLLM_SpendLogs", "", statement, None, None)
                             for statement in REQUEST_LOG_INDEXES], workers)
    lap("indexes")
    with psycopg.connect(url, application_name="datagen", autocommit=True, row_factory=dict_row) as conn:
        counts = {}
        for _, table, *_rest in DAILY_TABLES:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
            counts[table] = conn.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table))).fetchone()["n"]
        conn.execute('ANALYZE "LiteLLM_SpendLogs"')
    lap("finish")
    first = plan[0].start.replace(tzinfo=timezone.utc)
    return Result(rows, days, first, end, time.monotonic() - started, counts, shape, phases)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="the database to fill (created when missing)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="spend-log rows (default 1000000)")
    parser.add_argument("--days", type=int, default=60, help="UTC days ending today (default 60)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", help="ISO date-time the data ends at (default now, UTC)")
    parser.add_argument("--workers", type=int, default=2, help="parallel connections (default 2)")
    parser.add_argument("--no-request-log-indexes", action="store_true",
                        help="do not build LiteLLM's (api_key, startTime) and litellm_call_id indexes")
    args = parser.parse_args(argv)
    end = datetime.fromisoformat(args.end) if args.end else None
    if end is not None and end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    done = [0]

    def report(day: Day, seconds: float) -> None:
        done[0] += day.rows
        print(f"  {day.date}  {day.rows:>9,} rows  {seconds:6.1f} s  ({done[0]:,}/{args.rows:,})",
              file=sys.stderr, flush=True)

    result = generate(args.database_url, args.rows, args.days, args.seed, end=end, workers=args.workers,
                      request_log_indexes=not args.no_request_log_indexes, progress=report)
    print(f"{result.rows:,} spend logs over {result.days} days ({result.start:%Y-%m-%d} .. {result.end:%Y-%m-%d %H:%M} "
          f"UTC) in {result.seconds:.1f} s = {result.rows_per_minute / 1e6:.2f}M rows/min; daily rows: "
          + ", ".join(f"{t.removeprefix('LiteLLM_Daily').removesuffix('Spend')} {n:,}"
                      for t, n in result.daily_rows.items())
          + "; phases: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.phases.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
