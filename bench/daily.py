"""Benchmark `dbctl daily check` and `daily reconcile` against baselines measured in the same run
(issue 7 targets).

    python bench/daily.py [--database-url postgresql://postgres@127.0.0.1/dbctl_bench_10m] [--days 60]
    python bench/daily.py --generate postgresql://postgres@127.0.0.1/dbctl_bench_daily --rows 1000000 --days 6

Needs a database filled by bench/datagen.py (10M spend logs over 60 days for the targets; the
generator writes the six daily tables consistently with the logs), or `--generate URL` to fill one.
The database is only read: drift for the reconcile measurement is injected inside a transaction
that is rolled back. Measures:
1. `daily check` over the last --days closed days (the library call the command makes, one day
   at a time) against the best GROUP BY that computes the same six tables: the check's own
   derivation (queries/daily/diff.sql up to its comparison, so both do identical work per request)
   grouped by key with every compared counter, with no stored rows and no comparison; timed both
   as one statement over all the days and as one statement per day, the faster counts. Target:
   check <= 1.3x. Days alternate baseline / check so load drift hits both.
2. `daily reconcile` of one closed day with 1% of its daily rows drifted (deleted, altered, orphan
   rows added), against `daily check` of that drifted day: target <= 2x. Both run in the same
   transaction, rolled back after each repetition; the reconcile must leave the day clean.
Every statement runs with the settings the library uses (work_mem 128MB, JIT off); parallel
workers are left at the server's setting.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from litellm_dbctl.daily import drift, repair
from litellm_dbctl.daily.tables import TABLE_NAMES, TABLES, days_between
from litellm_dbctl.db import sqlfiles

DEFAULT_URL = "postgresql://postgres@127.0.0.1/dbctl_bench_10m"
SESSION = ("SET work_mem = '128MB'", "SET jit = off")
GROUP_KEY = "e.daily, e.entity_id, e.date, e.api_key, e.model, e.custom_llm_provider, e.mcp_namespaced_tool_name, e.endpoint"
COUNTERS = ", ".join(f"sum(e.{c}) AS {c}" for c in drift.COUNTER_COLUMNS)


NO_OUTBOX = {"deliveries": "no_deliveries"}  # diff.sql's {deliveries} on a database without LiteLLM 1.110's outbox


def baseline_statement() -> str:
    """The check's derivation without its comparison: diff.sql's request and fan-out CTEs (up to
    the first stored-row branch of `entry`), grouped by key with every compared counter."""
    text = sqlfiles.bind(sqlfiles.get("daily/diff").sql, NO_OUTBOX)
    marker = re.search(r"\n    UNION ALL\n    SELECT 'user', coalesce\(dus\.", text)
    if marker is None:
        raise SystemExit("bench/daily.py: queries/daily/diff.sql changed shape; update baseline_statement()")
    return (text[:marker.start()] + "\n)\n"
            f"SELECT count(r.*) FROM (SELECT {GROUP_KEY}, count(*) AS requests, {COUNTERS}\n"
            f"                        FROM entry AS e GROUP BY {GROUP_KEY}) AS r")


def timed(conn: psycopg.Connection, text: str, params: dict[str, object]) -> float:
    started = time.perf_counter()
    conn.execute(text, params).fetchall()
    return time.perf_counter() - started


def closed_range(conn: psycopg.Connection, days: int) -> tuple[date, date]:
    row = conn.execute('SELECT min("startTime") AS first, max("startTime") AS last FROM "LiteLLM_SpendLogs"').fetchone()
    if row["first"] is None:
        raise SystemExit("bench/daily.py: LiteLLM_SpendLogs is empty; fill it with bench/datagen.py")
    last_closed = row["last"].date() - timedelta(days=1)
    first = max(row["first"].date(), last_closed - timedelta(days=days - 1))
    return first, last_closed


# Drift in ~1% of one day's rows of every daily table: 0.4% deleted, 0.4% altered, 0.2% copied as
# orphans under an entity no log has.
DRIFT = """
SELECT setseed(0.7);
DELETE FROM "{table}" WHERE date = %(day)s AND random() < 0.004;
UPDATE "{table}" SET api_requests = api_requests + 1, spend = spend + 0.01 WHERE date = %(day)s AND random() < 0.004;
INSERT INTO "{table}" (id, "{entity}", date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint,
                       spend, api_requests, updated_at)
SELECT gen_random_uuid()::text, 'bench-orphan-' || id, date, api_key, model, custom_llm_provider,
       mcp_namespaced_tool_name, endpoint, spend, api_requests, now()
FROM "{table}" WHERE date = %(day)s AND random() < 0.002;
"""


def inject_drift(conn: psycopg.Connection, day: date) -> int:
    drifted = 0
    for table in TABLES:
        for statement in DRIFT.format(table=table.table, entity=table.entity_column).strip().split(";\n"):
            cursor = conn.execute(statement, {"day": day.isoformat()} if "%(day)s" in statement else None)
            drifted += max(cursor.rowcount, 0) if not statement.startswith("SELECT") else 0
    return drifted


def day_rows(conn: psycopg.Connection, day: date) -> int:
    return sum(conn.execute(f'SELECT count(*) AS n FROM "{t.table}" WHERE date = %s', [day.isoformat()]).fetchone()["n"]
               for t in TABLES)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="an existing database filled by datagen.py")
    parser.add_argument("--generate", metavar="URL", help="fill this database with datagen.py first, and use it")
    parser.add_argument("--rows", type=int, default=1_000_000, help="with --generate: spend logs (default 1M)")
    parser.add_argument("--days", type=int, default=60, help="closed days to check (default 60)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the one-day reconcile (default 3)")
    parser.add_argument("--skip-single", action="store_true", help="skip the one-statement baseline over all days")
    args = parser.parse_args()
    url = args.database_url
    if args.generate:
        import datagen

        url = args.generate
        print(f"generating {args.rows:,} spend logs over {args.days + 1} days into {url} ...", flush=True)
        datagen.generate(url, rows=args.rows, days=args.days + 1)

    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        for setting in SESSION:
            conn.execute(setting)
        first, last = closed_range(conn, args.days)
        days = days_between(first, last)
        logs = conn.execute('SELECT count(*) AS n FROM "LiteLLM_SpendLogs" WHERE "startTime" >= %s AND "startTime" < %s',
                            [first, last + timedelta(days=1)]).fetchone()["n"]
        print(f"{logs:,} spend logs over {len(days)} closed days {first}..{last}", flush=True)
        tables = list(TABLE_NAMES)
        baseline = baseline_statement()

        # 1. check over the days, alternating with the per-day baseline
        base_days = check_days = 0.0
        for day in days:
            base_days += timed(conn, baseline, {"since": day, "until": day + timedelta(days=1), "tables": tables,
                                                "first_writer": False, "litellm_1110": False})
            started = time.perf_counter()
            result = drift.check(conn, day, day)
            check_days += time.perf_counter() - started
            if result.drift:
                print(f"  note: {day} drifts: {result.totals()}", flush=True)
        print(f"baseline, one statement per day:   {base_days:8.1f} s", flush=True)
        print(f"daily check ({len(days)} days):           {check_days:8.1f} s", flush=True)
        best = base_days
        if not args.skip_single:
            single = timed(conn, baseline, {"since": first, "until": last + timedelta(days=1), "tables": tables,
                                            "first_writer": False, "litellm_1110": False})
            print(f"baseline, one statement, all days: {single:8.1f} s", flush=True)
            best = min(best, single)
        print(f"check / best baseline:             {check_days / best:8.2f}   (target <= 1.3)", flush=True)

        # 2. reconcile one drifted day against check of that day (rolled back each time)
        day = days[len(days) // 2]
        checks, reconciles, drifted = [], [], 0
        for _ in range(args.repeat):
            with conn.transaction(force_rollback=True):
                drifted = inject_drift(conn, day)
                started = time.perf_counter()
                with conn.transaction():
                    drifts = drift.diff_day(conn, day, tables)
                checks.append(time.perf_counter() - started)
                started = time.perf_counter()
                repairs = repair.reconcile_day(conn, day, prune_orphans=True)
                reconciles.append(time.perf_counter() - started)
                with conn.transaction():
                    assert not drift.diff_day(conn, day, tables), "reconcile left drift"
        rows = day_rows(conn, day)
        print(f"one day {day}: {rows:,} daily rows, {drifted:,} drifted ({drifted / rows:.1%}), "
              f"{len(drifts):,} drifting keys; repaired {sum(r.inserted for r in repairs)} inserted, "
              f"{sum(r.updated for r in repairs)} updated, {sum(r.pruned for r in repairs)} pruned", flush=True)
        print(f"daily check of that day:           {min(checks):8.2f} s (best of {args.repeat})", flush=True)
        print(f"daily reconcile of that day:       {min(reconciles):8.2f} s (best of {args.repeat})", flush=True)
        print(f"reconcile / check:                 {min(reconciles) / min(checks):8.2f}   (target <= 2)", flush=True)

        # 3. what a one-day statement reads
        plan = conn.execute("EXPLAIN " + sqlfiles.bind(sqlfiles.get("daily/diff").sql, NO_OUTBOX),
                            {"since": day, "until": day + timedelta(days=1), "tables": tables,
                             "first_writer": False, "litellm_1110": False}).fetchall()
        access = [r["QUERY PLAN"].strip() for r in plan if "SpendLogs" in r["QUERY PLAN"]]
        print("one day of logs is read by: " + "; ".join(access), flush=True)
    print(f"finished {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
