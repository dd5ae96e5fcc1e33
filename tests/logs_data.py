"""Spend logs for the `dbctl logs` tests: rows at the UTC day edges, a concurrent writer, and
LiteLLM's partitioned layout made by hand (its runbook's shape)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

TODAY = datetime.now(timezone.utc).date()
FIRST = TODAY - timedelta(days=120)  # the oldest day of the test data
MS = timedelta(milliseconds=1)

METADATA = {
    "user_api_key_alias": "alias",
    "proxy_server_request": "{\"messages\": [\"secret prompt\"]}",
    "vector_store_request_metadata": [{"vector_store_search_response": {"data": [{"content": [{"text": "doc"}]}]}}],
    "mcp_tool_call_metadata": {"name": "lookup", "arguments": {"q": "secret"}, "result": {"r": "secret"},
                               "namespaced_tool_name": "srv/lookup"},
    "guardrail_information": [{"guardrail_name": "h", "guardrail_provider": "headroom", "guardrail_status": "success",
                               "guardrail_request": "secret", "match_details": ["secret"],
                               "guardrail_response": {"tokens_saved": 7, "text": "secret"}}],
    "usage_object": {"prompt_tokens": 3},
    "status": "success",
}


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def edge_times(day: date) -> list[datetime]:
    """The first and last instants of a UTC day LiteLLM's timestamp(3) holds, and its noon."""
    start = midnight(day)
    return [start, start + timedelta(hours=12), start + timedelta(days=1) - MS]


INSERT = """INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, total_tokens, prompt_tokens,
    completion_tokens, "startTime", "endTime", model, "user", team_id, metadata, messages, response,
    proxy_server_request, status)
VALUES (%(request_id)s, 'acompletion', 'hashed-key', %(spend)s, 5, 3, 2, %(start)s, %(start)s, 'gpt-4o', 'u1', 't1',
    %(metadata)s, %(messages)s, %(response)s, %(request)s, 'success')"""


DEFAULT = object()  # log_row's metadata: METADATA


def log_row(request_id: str, start: datetime, spend: float = 0.25, metadata: Any = DEFAULT) -> dict[str, Any]:
    """A spend log with a prompt and a response; `metadata` None is SQL NULL."""
    return {"request_id": request_id, "start": start, "spend": spend,
            "metadata": None if metadata is None else Jsonb(METADATA if metadata is DEFAULT else metadata),
            "messages": Jsonb([{"role": "user", "content": "secret prompt"}]),
            "response": Jsonb({"choices": [{"message": {"content": "secret answer"}}]}),
            "request": Jsonb({"messages": [{"role": "user", "content": "secret prompt"}]})}


def insert(url: str, rows: Sequence[dict[str, Any]], tools: bool = True) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(INSERT, rows)
        if tools:
            cur.executemany('INSERT INTO "LiteLLM_SpendLogToolIndex" (request_id, tool_name, start_time) '
                            "VALUES (%(request_id)s, 'lookup', %(start)s)", rows)


def edge_logs(days: Sequence[date], per_edge: int = 1) -> list[dict[str, Any]]:
    """`per_edge` logs at each edge instant of each day."""
    return [log_row(f"req-{moment:%Y%m%d%H%M%S%f}-{n}", moment)
            for day in days for moment in edge_times(day) for n in range(per_edge)]


def request_ids(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute('SELECT request_id FROM "LiteLLM_SpendLogs"')}


def tool_ids(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute('SELECT request_id FROM "LiteLLM_SpendLogToolIndex"')}


@dataclass
class Writer:
    """A proxy stand-in: inserts a spend log every few milliseconds on its own connection until
    stopped; every insert must succeed, and every row it committed must be there afterwards."""

    url: str
    interval: float = 0.005
    inserted: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    slowest: float = 0.0

    def run(self, stop: threading.Event) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            n = 0
            while not stop.is_set():
                request_id = f"live-{n}"
                began = time.monotonic()
                try:
                    conn.execute(INSERT, log_row(request_id, datetime.now(timezone.utc).replace(tzinfo=None)))
                    self.inserted.append(request_id)
                except psycopg.Error as exc:
                    self.failures.append(str(exc))
                self.slowest = max(self.slowest, time.monotonic() - began)
                n += 1
                time.sleep(self.interval)


@contextmanager
def writing(url: str) -> Iterator[Writer]:
    writer = Writer(url)
    stop = threading.Event()
    thread = threading.Thread(target=writer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        time.sleep(0.1)
        yield writer
    finally:
        stop.set()
        thread.join()


def partition(url: str, days: Sequence[date], *, default: bool = True) -> None:
    """LiteLLM_SpendLogs in LiteLLM's partitioned layout (db_scripts/partition_spend_logs.sql): range on
    "startTime", primary key (request_id, "startTime"), daily partitions LiteLLM_SpendLogs_pYYYYMMDD."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute('ALTER TABLE "LiteLLM_SpendLogs" RENAME TO "LiteLLM_SpendLogs_plain"')
        conn.execute('CREATE TABLE "LiteLLM_SpendLogs" (LIKE "LiteLLM_SpendLogs_plain" INCLUDING DEFAULTS) '
                     'PARTITION BY RANGE ("startTime")')
        conn.execute('ALTER TABLE "LiteLLM_SpendLogs" ADD CONSTRAINT "LiteLLM_SpendLogs_pkey_p" '
                     'PRIMARY KEY (request_id, "startTime")')
        conn.execute('CREATE INDEX "LiteLLM_SpendLogs_startTime_p" ON "LiteLLM_SpendLogs" ("startTime", request_id)')
        conn.execute('DROP TABLE "LiteLLM_SpendLogs_plain"')
        for day in days:
            conn.execute(f'CREATE TABLE "LiteLLM_SpendLogs_p{day:%Y%m%d}" PARTITION OF "LiteLLM_SpendLogs" '
                         f"FOR VALUES FROM ('{day}') TO ('{day + timedelta(days=1)}')")
        if default:
            conn.execute('CREATE TABLE "LiteLLM_SpendLogs_default" PARTITION OF "LiteLLM_SpendLogs" DEFAULT')


def partitions(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return sorted(r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = '\"LiteLLM_SpendLogs\"'::regclass"))
