"""Benchmark `dbctl logs partition` (issue 20 targets) against a baseline measured in the same run.

    python bench/logs_partition.py [--server-url postgresql://postgres@127.0.0.1/postgres] [--rows 1000000]
        [--template DATABASE]

Fills a database of its own (`--database`, default dbctl_bench_logs_partition) with `--rows` spend logs
over `--days` UTC days from bench/datagen.py (kept between runs when it already holds that many rows and
is still plain; `--template` copies a datagen database instead), then:
1. baseline: a partitioned copy of the table's layout (same partitions, primary key and indexes, made
   beforehand and not timed), filled by one plain `INSERT INTO partitioned SELECT * FROM old`; dropped.
2. `logs partition` through the library (everything timed: prepare, trigger, batched copy, reconcile,
   swap, drop, cleanup) while a writer thread inserts `--rate` spend logs per second as single
   autocommit INSERTs, as a proxy's flush does; each insert's wait is measured.
Targets: the writer's longest wait <= 1 s; conversion time <= 3x the baseline INSERT. Afterwards the rows
are checked: the table holds every old row and every row the writer inserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from datagen import generate

from litellm_dbctl.db import config
from litellm_dbctl.logs import partition as converter
from litellm_dbctl.logs import partition_plan as plan

INSERT = ('INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, total_tokens, "startTime", '
          '"endTime", model) VALUES (%s, \'acompletion\', %s, 0.001, 42, %s, %s, \'gpt-4o\') ON CONFLICT DO NOTHING')


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def prepared(url: str, rows: int) -> bool:
    try:
        with psycopg.connect(url) as conn:
            kind = conn.execute("SELECT relkind::text FROM pg_class WHERE relname = 'LiteLLM_SpendLogs'").fetchone()
            if not kind or kind[0] != "r":
                return False
            count = conn.execute('SELECT count(*) FROM "LiteLLM_SpendLogs"').fetchone()
            return bool(count and count[0] == rows)
    except psycopg.OperationalError:
        return False


class Writer(threading.Thread):
    """A proxy's spend-log flush at `rate` inserts per second, each insert's wait recorded."""

    def __init__(self, url: str, rate: float) -> None:
        super().__init__(daemon=True)
        self.url, self.interval = url, 1.0 / rate
        self.waits: list[float] = []
        self.starts: list[float] = []  # each insert's start (time.monotonic())
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.stop = threading.Event()

    def summary(self) -> str:
        waits = sorted(self.waits)
        if not waits:
            return "no inserts"
        p99 = waits[max(int(len(waits) * 0.99) - 1, 0)]
        return (f"{len(waits)} inserts, {len(self.errors)} failed; wait median {statistics.median(waits) * 1000:.1f} "
                f"ms, p99 {p99 * 1000:.1f} ms, max {waits[-1] * 1000:.0f} ms")

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True, application_name="bench writer") as conn:
            due = time.monotonic()
            n = 0
            while not self.stop.is_set():
                n += 1
                now = datetime.utcnow()
                request_id = f"bench-writer-{time.time_ns()}-{n}"
                started = time.monotonic()
                try:
                    conn.execute(INSERT, (request_id, f"key{n % 7}", now, now))
                    self.ids.append(request_id)
                except psycopg.Error as exc:
                    self.errors.append(str(exc).splitlines()[0])
                self.waits.append(time.monotonic() - started)
                self.starts.append(started)
                due += self.interval
                time.sleep(max(due - time.monotonic(), 0))


def baseline(url: str, interval: str, probe: Writer) -> tuple[float, int]:
    """The same layout filled by one INSERT ... SELECT, with `probe` writing during the INSERT only;
    returns (seconds, rows)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_partitioned")
        conn.execute('CREATE TABLE bench_partitioned (LIKE "LiteLLM_SpendLogs" INCLUDING DEFAULTS) '
                     'PARTITION BY RANGE ("startTime")')
        conn.execute('ALTER TABLE bench_partitioned ADD PRIMARY KEY ("request_id", "startTime")')
        indexes = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'LiteLLM_SpendLogs' "
                               "AND indexname <> 'LiteLLM_SpendLogs_pkey'").fetchall()
        for (definition,) in indexes:
            method = definition[definition.index(" USING "):]
            conn.execute(sql.SQL("CREATE INDEX ON bench_partitioned") + sql.SQL(method))
        first, last = conn.execute('SELECT min("startTime")::date, max("startTime")::date '
                                   'FROM "LiteLLM_SpendLogs"').fetchone() or (None, None)
        assert first is not None and last is not None
        for part in plan.covering(first, max(last, datetime.utcnow().date()), interval, 7):
            conn.execute(sql.SQL("CREATE TABLE {} PARTITION OF bench_partitioned FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier("bench_" + part.name), sql.Literal(part.lower.isoformat()),
                sql.Literal(part.upper.isoformat())))
        conn.execute("CREATE TABLE bench_pdefault PARTITION OF bench_partitioned DEFAULT")
        conn.execute("CHECKPOINT")
        probe.start()
        started = time.monotonic()
        cur = conn.execute('INSERT INTO bench_partitioned SELECT * FROM "LiteLLM_SpendLogs"')
        seconds = time.monotonic() - started
        probe.stop.set()
        probe.join()
        rows = cur.rowcount
        conn.execute("DROP TABLE bench_partitioned")
        conn.execute("CHECKPOINT")
    return seconds, rows


class Watcher(threading.Thread):
    """Every 20 ms: what dbctl's connection runs, what the writer waits on (pg_stat_activity's
    wait_event) and what the checkpointer does, to say what the slowest inserts waited for."""

    QUERY = ("SELECT coalesce(string_agg(CASE WHEN application_name LIKE 'dbctl%%' THEN state || ': ' || "
             "left(regexp_replace(query, '\\s+', ' ', 'g'), 60) END, ' | '), ''), "
             "coalesce(max(CASE WHEN application_name = 'bench writer' AND state = 'active' "
             "THEN concat_ws(':', wait_event_type, wait_event) END), ''), "
             "coalesce(max(CASE WHEN backend_type = 'checkpointer' THEN coalesce(wait_event, 'running') END), '') "
             "FROM pg_stat_activity WHERE pid <> pg_backend_pid()")

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.samples: list[tuple[float, str, str, str]] = []  # (when, dbctl, writer's wait, checkpointer)
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True, application_name="bench watcher") as conn:
            while not self.stop.is_set():
                row = conn.execute(self.QUERY).fetchone()
                self.samples.append((time.monotonic(), *(row or ("", "", ""))))
                time.sleep(0.02)

    def during(self, start: float, end: float) -> str:
        """What was seen between `start` and `end`: dbctl's statement at the middle, and every wait of
        the writer and state of the checkpointer sampled in between."""
        middle = (start + end) / 2
        before = [s for s in self.samples if s[0] <= middle]
        inside = [s for s in self.samples if start <= s[0] <= end]
        waits = sorted({s[2] for s in inside if s[2]})
        checkpointer = sorted({s[3] for s in inside if s[3]})
        return (f"dbctl: {before[-1][1] if before else '?'}; writer waited on: {', '.join(waits) or '-'}; "
                f"checkpointer: {', '.join(checkpointer) or '-'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1/postgres")
    parser.add_argument("--database", default="dbctl_bench_logs_partition")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--rate", type=float, default=200.0, help="writer inserts per second (default 200)")
    parser.add_argument("--batch-size", type=int, default=converter.DEFAULT_BATCH_SIZE)
    parser.add_argument("--pause", type=float, default=converter.Options.pause, help="seconds between batches")
    parser.add_argument("--max-rate", type=float, help="copied rows per second at most")
    parser.add_argument("--interval", default="day", choices=plan.INTERVALS)
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline (no ratio printed)")
    parser.add_argument("--template", metavar="DATABASE",
                        help="start from a copy of this database (filled by datagen.py with --rows) instead")
    args = parser.parse_args()
    url = database_url(args.server_url, args.database)
    if args.template:
        with psycopg.connect(args.server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(args.database)))
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(args.database),
                                                                          sql.Identifier(args.template)))
    if not prepared(url, args.rows):
        with psycopg.connect(args.server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(args.database)))
        print(f"generating {args.rows} spend logs over {args.days} days ...", flush=True)
        made = generate(url, args.rows, args.days)
        print(f"  generated in {made.seconds:.1f} s", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('\"LiteLLM_SpendLogs\"'))").fetchone()
    print(f"LiteLLM_SpendLogs: {args.rows} rows, {size[0] if size else '?'} with indexes", flush=True)

    base_seconds = 0.0
    if not args.no_baseline:
        probe = Writer(url, args.rate)  # what the same writer waits beside the plain INSERT: the server's own stalls
        base_seconds, base_rows = baseline(url, args.interval, probe)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute('DELETE FROM "LiteLLM_SpendLogs" WHERE request_id = ANY(%s)', (probe.ids,))
        print(f"baseline INSERT INTO partitioned SELECT * FROM old: {base_rows} rows in {base_seconds:.2f} s "
              f"({base_rows / base_seconds:,.0f} rows/s); writer beside it: {probe.summary()}", flush=True)

    writer, watcher = Writer(url, args.rate), Watcher(url)
    writer.start()
    watcher.start()
    time.sleep(1.0)
    started = time.monotonic()
    result = converter.partition(config.parse(url, "bench"), converter.Options(
        interval=args.interval, batch_size=args.batch_size, pause=args.pause, max_rate=args.max_rate,
        lock_timeout=120.0))
    seconds = time.monotonic() - started
    time.sleep(1.0)
    writer.stop.set()
    watcher.stop.set()
    writer.join()
    watcher.join()

    with psycopg.connect(url) as conn:
        total = conn.execute('SELECT count(*) FROM "LiteLLM_SpendLogs"').fetchone()
        kept = conn.execute('SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE request_id = ANY(%s)',
                            (writer.ids,)).fetchone()
    print(f"logs partition: {result.outcome}, {result.rows_copied} rows copied in {result.batches} batches, "
          f"{len(result.partitions_created)} partitions, {result.swap_attempts} swap attempt(s), "
          f"{seconds:.2f} s ({result.rows_copied / seconds:,.0f} rows/s)")
    if base_seconds:
        print(f"  ratio to baseline: {seconds / base_seconds:.2f}x (target <= 3x)")
    print(f"writer at {args.rate:g}/s: {writer.summary()} (target: max <= 1000 ms)")
    for wait, start in sorted(zip(writer.waits, writer.starts), reverse=True)[:3]:
        clock = datetime.now() - timedelta(seconds=time.monotonic() - start)
        print(f"  {wait * 1000:6.0f} ms at +{start - started:6.1f} s ({clock:%H:%M:%S}, to match with the server "
              f"log's checkpoints): {watcher.during(start, start + wait)}")
    ok_rows = total is not None and kept is not None and total[0] == args.rows + len(writer.ids) \
        and kept[0] == len(writer.ids)
    print(f"rows after: {total[0] if total else '?'} = {args.rows} old + {len(writer.ids)} written: "
          f"{'ok' if ok_rows else 'MISMATCH'}")
    if writer.errors:
        print("  first writer error:", writer.errors[0])
    return 0 if ok_rows and not writer.errors else 1


if __name__ == "__main__":
    sys.exit(main())
