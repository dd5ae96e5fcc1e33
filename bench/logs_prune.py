"""`dbctl logs prune` against a single DELETE, each beside a proxy stand-in inserting spend logs.

    python bench/logs_prune.py --server-url postgresql://postgres@127.0.0.1/postgres --rows 1000000

Generates `--rows` spend logs over 60 days (bench/datagen.py) into a fresh database, copies it
(CREATE DATABASE ... TEMPLATE), and prunes the oldest half of the days twice, each time while a
writer thread inserts `--writer-rate` spend logs per second on its own connection (timing each
insert): in the copy with one `DELETE ... WHERE "startTime" < cutoff` (and the tool-index rows the
same way) — the baseline — and in the original with `logs prune` (batched, --force: the daily check
is timed on its own). Prints rows/s, the writer's p50/p99/max insert latency in each, and the ratio.
Targets at 10M rows: prune >= 100k rows/s, writer p99 <= 50 ms, max <= 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg import sql

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
WRITE = """INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, total_tokens, prompt_tokens,
    completion_tokens, "startTime", "endTime", model, "user", team_id, metadata)
VALUES (%s, 'acompletion', 'bench-key', 0.001, 30, 20, 10, %s, %s, 'gpt-4o', 'bench-user', 'bench-team',
    '{"status": "success"}')"""


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


class Writer:
    """Inserts `rate` spend logs per second (each its own autocommit transaction, as LiteLLM's
    batched writer's statements are) and keeps every insert's latency."""

    def __init__(self, url: str, rate: float) -> None:
        self.url, self.rate = url, rate
        self.latencies: list[float] = []
        self.failures = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True, application_name="bench writer") as conn:
            tick = time.monotonic()
            while not self.stop.is_set():
                now = datetime.now(timezone.utc).replace(tzinfo=None)
                began = time.perf_counter()
                try:
                    conn.execute(WRITE, (f"bench-{uuid.uuid4().hex}", now, now))
                except psycopg.Error:
                    self.failures += 1
                self.latencies.append(time.perf_counter() - began)
                tick += 1 / self.rate
                time.sleep(max(0.0, tick - time.monotonic()))

    def summary(self) -> str:
        ordered = sorted(self.latencies) or [0.0]
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (f"writer: {len(ordered)} inserts, p50 {statistics.median(ordered) * 1000:.1f} ms, "
                f"p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms, {self.failures} failed")


@contextmanager
def writing(url: str, rate: float) -> Iterator[Writer]:
    writer = Writer(url, rate)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    time.sleep(1.0)  # warm: the writer's own first inserts are not the prune's doing
    writer.latencies.clear()
    try:
        yield writer
    finally:
        writer.stop.set()
        thread.join()


def timed(what: Callable[[], object]) -> tuple[float, object]:
    began = time.perf_counter()
    result = what()
    return time.perf_counter() - began, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default=DEFAULT_SERVER, help="an admin URL: the bench makes its databases")
    parser.add_argument("--rows", type=int, default=1_000_000, help="spend logs to generate (default 1M)")
    parser.add_argument("--days", type=int, default=60, help="days they span (default 60); the oldest half go")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--pause", type=float, default=0.002, help="seconds between batches (default 0.002, as dbctl's)")
    parser.add_argument("--writer-rate", type=float, default=200.0, help="writer inserts per second (default 200)")
    parser.add_argument("--keep", action="store_true", help="keep the two databases afterwards")
    parser.add_argument("--template", metavar="DATABASE",
                        help="copy this database (filled by datagen.py with --rows over --days) instead of generating")
    args = parser.parse_args()

    import datagen

    from litellm_dbctl.db import config
    from litellm_dbctl.logs import prune
    from litellm_dbctl.logs.batches import Pace

    name = f"dbctl_bench_prune_{uuid.uuid4().hex[:8]}"
    copy = name + "_copy"
    url, copy_url = database_url(args.server_url, name), database_url(args.server_url, copy)
    with psycopg.connect(args.server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)) if not args.template else
                      sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(args.template)))
    try:
        if not args.template:
            print(f"generating {args.rows:,} spend logs over {args.days} days ...", flush=True)
            seconds, _ = timed(lambda: datagen.generate(url, rows=args.rows, days=args.days))
            print(f"  {seconds:.1f} s", flush=True)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute('VACUUM ANALYZE "LiteLLM_SpendLogs"')
            first = conn.execute('SELECT min("startTime") FROM "LiteLLM_SpendLogs"').fetchone()[0]
        cutoff = prune.midnight((first + timedelta(days=args.days // 2)).date())
        with psycopg.connect(args.server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(copy), sql.Identifier(name)))
        naive = cutoff.replace(tzinfo=None)

        # baseline: one DELETE in the copy, beside the writer
        with psycopg.connect(copy_url, autocommit=True) as conn:
            doomed = conn.execute('SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE "startTime" < %s', [naive]).fetchone()[0]
            print(f"{doomed:,} spend logs before {cutoff:%Y-%m-%d} (of {args.rows:,})", flush=True)
            with writing(copy_url, args.writer_rate) as writer:
                base, _ = timed(lambda: (conn.execute('DELETE FROM "LiteLLM_SpendLogs" WHERE "startTime" < %s', [naive]),
                                         conn.execute('DELETE FROM "LiteLLM_SpendLogToolIndex" WHERE start_time < %s',
                                                      [naive])))
            print(f"baseline, one DELETE:   {base:7.2f} s  {doomed / base:10,.0f} rows/s   {writer.summary()}",
                  flush=True)

        # the daily check a prune without --force runs first over the days it deletes (no writer)
        target = config.parse(url, "bench")
        from litellm_dbctl.db import database

        with database.connect(target, command="bench", autocommit=True) as conn:
            days = list(prune.read_plan(conn, cutoff).days)
            checked, refused = timed(lambda: prune.check_days(conn, days, target))
        print(f"daily check of {len(days)} days: {checked:7.2f} s  ({refused or 'all match'}; --force skips it)",
              flush=True)

        # dbctl logs prune, beside the writer
        with writing(url, args.writer_rate) as writer:
            took, result = timed(lambda: prune.prune(target, cutoff, force=True,
                                                     pace=Pace(batch_size=args.batch_size, pause=args.pause)))
        assert isinstance(result, prune.PruneResult)
        print(f"logs prune (batched):   {took:7.2f} s  {result.rows / took:10,.0f} rows/s   {writer.summary()}",
              flush=True)
        print(f"prune / baseline time:  {took / base:7.2f}x   (rows {result.rows:,}, tool-index rows "
              f"{result.tool_rows:,}, ~{result.bytes / 2**20:,.0f} MiB to vacuum)", flush=True)

    finally:
        if not args.keep:
            with psycopg.connect(args.server_url, autocommit=True) as admin:
                for db in (copy, name):
                    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
