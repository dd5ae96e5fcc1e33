"""Benchmark `dbctl logs archive --format parquet` against a plain COPY of the same rows.

    python bench/logs_archive.py --generate postgresql://postgres@127.0.0.1/dbctl_bench_logs --rows 1000000

Archives every closed day of a database filled by datagen.py (`--days` closed days, default 60) to
Parquet in a scratch directory, in a child process (`python -m litellm_dbctl logs archive`) whose
peak memory (ru_maxrss) is read when it ends, and times the baseline in the same run: `COPY (SELECT
* ... ORDER BY "startTime", request_id) TO STDOUT (FORMAT csv)` of the same rows, one statement per
day as the archive reads them, drained into /dev/null. Prints rows/s of both and their ratio.
Targets (issue 20, 10M rows over 60 days): at least 200k rows/s, peak memory under 300 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DEFAULT_URL = "postgresql://postgres@127.0.0.1/dbctl_bench_10m"
BASELINE = """COPY (SELECT * FROM "LiteLLM_SpendLogs"
                WHERE "startTime" >= %(since)s AND "startTime" < %(until)s
                ORDER BY "startTime", request_id) TO STDOUT (FORMAT csv, HEADER)"""


def baseline(url: str, days: list, fmt_rows: int) -> tuple[float, int]:
    """Seconds and bytes of the per-day COPY of the rows into /dev/null."""
    started = time.perf_counter()
    written = 0
    with psycopg.connect(url) as conn, open(os.devnull, "wb") as sink:
        conn.execute("SET DateStyle = 'ISO, MDY'")
        for day in days:
            with conn.cursor() as cur, cur.copy(BASELINE, {"since": day, "until": day + timedelta(days=1)}) as copy:
                for chunk in copy:
                    sink.write(chunk)
                    written += len(chunk)
        conn.rollback()
    return time.perf_counter() - started, written


def archive(url: str, until: str, directory: Path, fmt: str, jobs: int) -> tuple[float, float]:
    """Seconds and peak resident MB of `dbctl logs archive` in a child process (its threads included)."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "litellm_dbctl", "--database-url", url, "-q", "logs", "archive",
                              "--until", until, "--to", str(directory), "--format", fmt, "--jobs", str(jobs)],
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"dbctl logs archive failed: exit {os.waitstatus_to_exitcode(status)}")
    return seconds, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="an existing database filled by datagen.py")
    parser.add_argument("--generate", metavar="URL", help="fill this database with datagen.py first, and use it")
    parser.add_argument("--rows", type=int, default=1_000_000, help="with --generate: spend logs (default 1M)")
    parser.add_argument("--days", type=int, default=60, help="closed days to archive (default 60)")
    parser.add_argument("--format", default="parquet", choices=["parquet", "jsonl.gz", "csv.gz"])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1], metavar="N",
                        help="archive with --jobs N, once per N given (default 1), each into a fresh directory")
    parser.add_argument("--keep", metavar="DIR", help="archive here and keep the files (default: a scratch directory)")
    args = parser.parse_args()
    url = args.database_url
    if args.generate:
        import datagen

        url = args.generate
        print(f"generating {args.rows:,} spend logs over {args.days + 1} days into {url} ...", flush=True)
        datagen.generate(url, rows=args.rows, days=args.days + 1)
    with psycopg.connect(url, autocommit=True) as conn:
        last = conn.execute("""SELECT (max("startTime")::date - 1) FROM "LiteLLM_SpendLogs" """).fetchone()[0]
        first = last - timedelta(days=args.days - 1)
        days = [first + timedelta(days=n) for n in range(args.days)]
        rows = conn.execute("""SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE "startTime" >= %s AND "startTime" < %s""",
                            (first, last + timedelta(days=1))).fetchone()[0]
        heap = conn.execute("""SELECT pg_total_relation_size('"LiteLLM_SpendLogs"')""").fetchone()[0]
    print(f"{rows:,} spend logs over {len(days)} closed days {first}..{last} (table {heap / 2**20:,.0f} MB)", flush=True)
    directory = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dbctl-bench-archive-"))
    try:
        base_seconds, base_bytes = baseline(url, days, rows)
        print(f"baseline COPY to /dev/null: {base_seconds:.2f} s, {rows / base_seconds:,.0f} rows/s, "
              f"{base_bytes / 2**20:,.0f} MB of CSV", flush=True)
        for jobs in args.jobs:
            shutil.rmtree(directory, ignore_errors=True)
            seconds, peak = archive(url, last.isoformat(), directory, args.format, jobs)
            files = [p for p in directory.iterdir() if p.name.startswith("spendlogs-")]
            size = sum(p.stat().st_size for p in files)
            print(f"dbctl logs archive --format {args.format} --jobs {jobs}: {seconds:.2f} s, {rows / seconds:,.0f} "
                  f"rows/s, peak {peak:,.0f} MB, {len(files)} files, {size / 2**20:,.0f} MB", flush=True)
            print(f"ratio archive/baseline time (--jobs {jobs}): {seconds / base_seconds:.2f}x", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
