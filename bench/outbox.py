"""What leaving out the requests whose spend-log delivery is not applied yet costs `daily check`
(LiteLLM 1.110's outbox): one day's diff with the outbox anti-join against the same diff bound to
the empty `no_deliveries`, alternating, best and median of --repeat.

    python bench/outbox.py --database-url postgresql://postgres@127.0.0.1/dbctl_bench_outbox [--logs 100000]

The database must have LiteLLM 1.110's tables (`dbctl migrate deploy --migrations-dir` with the
packaged migrations plus tests/data/migrations-1.110-extra). Its spend logs and deliveries are
replaced: --logs requests on 2026-01-10, each with a delivery kept as LiteLLM keeps them for a day
(1% pending, 0.1% parked, the rest applied).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import fix_daily

from litellm_dbctl.daily import drift
from litellm_dbctl.daily.tables import TABLE_NAMES

COLUMNS = ('request_id, call_type, api_key, spend, prompt_tokens, completion_tokens, "startTime", "endTime", model, '
           'model_group, custom_llm_provider, "user", metadata, request_tags, team_id, end_user, status, '
           "organization_id, agent_id, request_duration_ms")
FIELDS = ("request_id", "call_type", "api_key", "spend", "prompt_tokens", "completion_tokens", "start", "end",
          "model", "model_group", "custom_llm_provider", "user", "metadata", "request_tags", "team_id", "end_user",
          "status", "organization_id", "agent_id", "duration_ms")


def fill(conn: psycopg.Connection, count: int) -> None:
    conn.execute('TRUNCATE "LiteLLM_SpendLogs", "LiteLLM_SpendLogDelivery"')
    with conn.cursor() as cur, cur.copy(f'COPY "LiteLLM_SpendLogs" ({COLUMNS}) FROM STDIN') as copy:
        for log in fix_daily.plain_logs(7, fix_daily.FIRST_DAY, 1, count, prefix="b"):
            copy.write_row([json.dumps(getattr(log, f)) if f in ("metadata", "request_tags") else getattr(log, f)
                            for f in FIELDS])
    conn.execute("""INSERT INTO "LiteLLM_SpendLogDelivery" (delivery_id, request_id, state, accounting_payload, is_batch)
        SELECT request_id, request_id, (CASE WHEN i % 1000 = 0 THEN 'parked' WHEN i % 100 = 0 THEN 'pending'
                                             ELSE 'applied' END)::"AccountingDeliveryState", '{}', false
        FROM (SELECT request_id, row_number() OVER () AS i FROM "LiteLLM_SpendLogs") AS s""")
    conn.execute("ANALYZE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--logs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    day = date(2026, 1, 10)
    with psycopg.connect(args.database_url, autocommit=True, row_factory=dict_row) as conn:
        if not drift.has_outbox(conn):
            raise SystemExit("bench/outbox.py: no LiteLLM_SpendLogDelivery; migrate with the 1.110 set first")
        fill(conn, args.logs)
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.repeat):
            for outbox in (False, True):
                started = time.perf_counter()
                with conn.transaction():
                    drift.diff_day(conn, day, TABLE_NAMES, outbox=outbox)
                times[outbox].append(time.perf_counter() - started)
    for outbox, label in ((False, "diff, no outbox (empty CTE)"), (True, "diff, outbox anti-join   ")):
        print(f"{label}: best {min(times[outbox]):.3f} s, median {statistics.median(times[outbox]):.3f} s")
    print(f"outbox / none (median): {statistics.median(times[True]) / statistics.median(times[False]):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
