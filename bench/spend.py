"""Benchmark `dbctl spend` against baselines measured in the same run (issue 6 targets).

    python bench/spend.py [--database-url postgresql://postgres@127.0.0.1/dbctl_bench_10m] [--repeat 5]

Needs a database filled by bench/datagen.py (10M spend logs over 60 days for the targets). Measures:
1. `spend top --by team --since 30d` from the daily tables, the whole command (a fresh process):
   target <= 0.5 s. Printed beside the bare SQL statement and the process start-up floor.
2. The same with `--source logs`: target <= 1.3x the best single SQL statement for the same answer
   (a hand-written GROUP BY with the same counting rules, best of JIT on/off).
3. `spend export --source logs --since all --format csv` of every spend log: target >= 200k rows/s with
   peak memory < 200 MB; beside a raw `COPY ... TO STDOUT` into /dev/null. JSON lines for comparison.
Each timing is the best of --repeat runs, alternating command and baseline so drift hits both.
"""

from __future__ import annotations

import argparse
import compileall
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from litellm_dbctl.db import sqlfiles

DEFAULT_URL = "postgresql://postgres@127.0.0.1/dbctl_bench_10m"

# The same answer as `spend top --by team --source daily`, as one would write it by hand.
DAILY_BASELINE = """
SELECT COALESCE(team_id, '') AS team, sum(spend), sum(prompt_tokens), sum(completion_tokens),
       sum(cache_read_input_tokens), sum(cache_creation_input_tokens), sum(api_requests),
       sum(successful_requests), sum(failed_requests)
FROM "LiteLLM_DailyTeamSpend"
WHERE date >= %(first_day)s AND date <= %(last_day)s AND api_key <> '__ptu_flat_cost__'
GROUP BY 1 ORDER BY 2 DESC
"""

# The same answer as `spend top --by team --source logs`: one GROUP BY with LiteLLM's counting rules.
LOGS_BASELINE = """
SELECT COALESCE(team_id, '') AS team, sum(spend), sum(prompt_tokens), sum(completion_tokens),
    sum(COALESCE(
        NULLIF(CASE jsonb_typeof(metadata -> 'usage_object' -> 'cache_read_input_tokens')
            WHEN 'number' THEN trunc((metadata -> 'usage_object' ->> 'cache_read_input_tokens')::numeric)::bigint
            WHEN 'boolean' THEN (metadata -> 'usage_object' ->> 'cache_read_input_tokens')::boolean::int END, 0),
        CASE jsonb_typeof(metadata -> 'usage_object' -> 'prompt_tokens_details' -> 'cached_tokens')
            WHEN 'number' THEN trunc((metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cached_tokens')::numeric)::bigint
            WHEN 'boolean' THEN (metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cached_tokens')::boolean::int END,
        0)),
    sum(COALESCE(
        NULLIF(CASE jsonb_typeof(metadata -> 'usage_object' -> 'cache_creation_input_tokens')
            WHEN 'number' THEN trunc((metadata -> 'usage_object' ->> 'cache_creation_input_tokens')::numeric)::bigint
            WHEN 'boolean' THEN (metadata -> 'usage_object' ->> 'cache_creation_input_tokens')::boolean::int END, 0),
        NULLIF(CASE jsonb_typeof(metadata -> 'usage_object' -> 'prompt_tokens_details' -> 'cache_write_tokens')
            WHEN 'number' THEN trunc((metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_write_tokens')::numeric)::bigint
            WHEN 'boolean' THEN (metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_write_tokens')::boolean::int END, 0),
        CASE jsonb_typeof(metadata -> 'usage_object' -> 'prompt_tokens_details' -> 'cache_creation_tokens')
            WHEN 'number' THEN trunc((metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_creation_tokens')::numeric)::bigint
            WHEN 'boolean' THEN (metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_creation_tokens')::boolean::int END,
        0)),
    count(*) FILTER (WHERE caller), count(*) FILTER (WHERE caller AND NOT failed),
    count(*) FILTER (WHERE caller AND failed)
FROM (
    SELECT team_id, spend, prompt_tokens, completion_tokens, metadata,
        COALESCE(metadata ->> 'status', '') = 'failure' AS failed,
        NOT COALESCE(metadata -> 'billed_retry_attempt' = 'true'::jsonb, false)
        AND NOT CASE jsonb_typeof(metadata -> 'internal_call_origin')
                    WHEN 'string' THEN metadata ->> 'internal_call_origin' <> ''
                    WHEN 'number' THEN (metadata ->> 'internal_call_origin')::numeric <> 0
                    WHEN 'boolean' THEN metadata -> 'internal_call_origin' = 'true'::jsonb
                    WHEN 'array' THEN metadata -> 'internal_call_origin' <> '[]'::jsonb
                    WHEN 'object' THEN metadata -> 'internal_call_origin' <> '{}'::jsonb
                    ELSE false END AS caller
    FROM "LiteLLM_SpendLogs"
    WHERE "startTime" >= %(since)s AND "startTime" < %(until)s
) AS l
GROUP BY 1 ORDER BY 2 DESC
"""

RAW_COPY = 'COPY (SELECT * FROM "LiteLLM_SpendLogs") TO STDOUT WITH (FORMAT csv, HEADER)'


def dbctl(url: str, *args: str, stdout: int | None = subprocess.DEVNULL) -> tuple[float, int]:
    """Run dbctl in a fresh process: (wall seconds, peak RSS in KiB)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-m", "litellm_dbctl", "--database-url", url, *args],
                             stdout=stdout, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"dbctl {' '.join(args)} failed: {child.stderr.read().decode() if child.stderr else ''}")
    return seconds, usage.ru_maxrss


def statement(url: str, text: str, params: dict[str, object], *, jit: bool = True) -> float:
    with psycopg.connect(url) as conn:
        conn.execute(f"SET jit = {'on' if jit else 'off'}")
        started = time.monotonic()
        conn.execute(text, params).fetchall()
        return time.monotonic() - started


def stack_import() -> float:
    """A fresh interpreter that imports typer and psycopg and exits: what any command on this stack pays."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import psycopg, typer"], check=True)
    return time.monotonic() - started


def raw_copy(url: str) -> float:
    with psycopg.connect(url) as conn, open(os.devnull, "wb") as sink:
        started = time.monotonic()
        with conn.cursor().copy(RAW_COPY) as copy:
            for chunk in copy:
                sink.write(chunk)
        return time.monotonic() - started


def best(repeat: int, *runs: Callable[[], float]) -> list[float]:
    """Best of `repeat` for each run, interleaved so that machine drift hits them alike."""
    results: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for index, run in enumerate(runs):
            results[index].append(run())
    return [min(r) for r in results]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "litellm_dbctl", quiet=1)  # run as installed: with bytecode
    url = args.database_url
    with psycopg.connect(url) as conn:
        rows = conn.execute('SELECT count(*) FROM "LiteLLM_SpendLogs"').fetchone()[0]
        load = os.getloadavg()[0]
    print(f"database: {rows:,} spend logs; load average {load:.1f} on {os.cpu_count()} cores")

    now = datetime.now(timezone.utc)
    first_day = (now.date() - timedelta(days=30)).isoformat()  # --since 30d: from the day 30 days ago
    since = datetime.combine(now.date() - timedelta(days=30), datetime.min.time())
    daily_params = {"first_day": first_day, "last_day": now.date().isoformat()}
    logs_params = {"since": since, "until": now.replace(tzinfo=None)}

    floor, stack, command, query = best(
        args.repeat,
        lambda: dbctl(url, "--version")[0],
        lambda: stack_import(),
        lambda: dbctl(url, "spend", "top", "--by", "team", "--since", "30d")[0],
        lambda: statement(url, DAILY_BASELINE, daily_params),
    )
    print(f"\n1. spend top --by team --since 30d (daily tables), whole command: {command:.3f} s "
          f"(target <= 0.5 s: {'met' if command <= 0.5 else 'NOT met'})")
    print(f"   the bare SQL statement {query:.3f} s; process start-up floor (dbctl --version) {floor:.3f} s; "
          f"command / statement = {command / query:.2f}x")
    print(f"   any command on this stack: a Python that imports typer and psycopg {stack:.3f} s + the statement "
          f"= {stack + query:.3f} s; command / that = {command / (stack + query):.2f}x")

    repeat = max(2, args.repeat // 2)
    command, jit_on, jit_off = best(
        repeat,
        lambda: dbctl(url, "spend", "top", "--by", "team", "--since", "30d", "--source", "logs")[0],
        lambda: statement(url, LOGS_BASELINE, logs_params, jit=True),
        lambda: statement(url, LOGS_BASELINE, logs_params, jit=False),
    )
    baseline = min(jit_on, jit_off)
    print(f"\n2. spend top --by team --since 30d --source logs: {command:.2f} s; best single statement "
          f"{baseline:.2f} s (JIT on {jit_on:.2f} s, off {jit_off:.2f} s); ratio {command / baseline:.2f}x "
          f"(target <= 1.3x: {'met' if command / baseline <= 1.3 else 'NOT met'})")
    ours = sqlfiles.get("spend/logs_spend").sql
    ours_params = {**logs_params, "by": "team", "per_day": False, "top": 10, **dict.fromkeys(
        ("keys", "users", "teams", "orgs", "end_users", "agents", "models", "providers", "tags"))}
    [our_statement] = best(1, lambda: statement(url, ours, ours_params))
    print(f"   dbctl's own statement alone: {our_statement:.2f} s")

    if args.skip_export:
        return 0
    [raw] = best(1, lambda: raw_copy(url))
    seconds, peak = dbctl(url, "spend", "export", "--source", "logs", "--since", "all", "--format", "csv")
    print(f"\n3. spend export --source logs --format csv of {rows:,} rows: {seconds:.1f} s = "
          f"{rows / seconds / 1000:,.0f}k rows/s, peak memory {peak / 1024:.0f} MB "
          f"(targets >= 200k rows/s and < 200 MB: {'met' if rows / seconds >= 200_000 and peak < 200 * 1024 else 'NOT met'})")
    print(f"   raw COPY of SELECT * into /dev/null: {raw:.1f} s = {rows / raw / 1000:,.0f}k rows/s; "
          f"export / raw = {seconds / raw:.2f}x")
    seconds, peak = dbctl(url, "spend", "export", "--source", "logs", "--since", "all", "--format", "jsonl")
    print(f"   --format jsonl: {seconds:.1f} s = {rows / seconds / 1000:,.0f}k rows/s, peak memory {peak / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
