"""Issue 20's targets for `dbctl logs`, in one run: archive, prune and partition on one datagen database.

    python bench/logs.py --rows 10000000 [--server-url postgresql://postgres@127.0.0.1/postgres]

Fills `dbctl_bench_logs_<rows>` (or `--database`) with `--rows` spend logs over 60 days (bench/datagen.py; kept and
reused while it holds that many rows), then runs, one after another on that data:
1. bench/logs_archive.py: every closed day to Parquet, against a per-day COPY into /dev/null;
2. bench/logs_prune.py --template: the oldest 30 days, against one DELETE, each beside a writer;
3. bench/logs_partition.py --template: the online conversion, against one INSERT ... SELECT, beside
   a writer.
Each prints its own figures and ratio (its baseline runs in the same process); the summary repeats
the lines that hold the targets. Targets at 10M rows: prune >= 100k rows/s with the writer's p99
<= 50 ms and max <= 1 s; archive >= 200k rows/s under 300 MB; partition <= 3x its baseline with the
writer's longest wait <= 1 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from datagen import generate
from logs_partition import database_url, prepared

SUMMARY = ("rows/s", "ratio", "/ baseline", "writer:", "writer at", "daily check")


def bench(script: str, *args: str) -> list[str]:
    """Run one bench script, echoing its output; returns the lines that hold its figures."""
    print(f"\n== {script} {' '.join(args)}", flush=True)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(HERE / script), *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    kept = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        if any(word in line for word in SUMMARY):
            kept.append(line.rstrip())
    code = proc.wait()
    kept.append(f"({script}: exit {code}, {time.monotonic() - started:.0f} s)")
    return kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1/postgres")
    parser.add_argument("--rows", type=int, default=1_000_000, help="spend logs (default 1M; the targets are at 10M)")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--database", metavar="NAME", help="the datagen database (default dbctl_bench_logs_<rows>)")
    parser.add_argument("--only", choices=["archive", "prune", "partition"], action="append",
                        help="run only these (repeatable)")
    args = parser.parse_args()
    name = args.database or f"dbctl_bench_logs_{args.rows}"
    url = database_url(args.server_url, name)
    if not prepared(url, args.rows):
        with psycopg.connect(args.server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"generating {args.rows:,} spend logs over {args.days} days into {name} ...", flush=True)
        made = generate(url, args.rows, args.days)
        print(f"  generated in {made.seconds:.0f} s", flush=True)
    rows, server = str(args.rows), ["--server-url", args.server_url]
    runs = {
        "archive": ("logs_archive.py", "--database-url", url),
        "prune": ("logs_prune.py", *server, "--template", name, "--rows", rows, "--days", str(args.days)),
        "partition": ("logs_partition.py", *server, "--template", name, "--rows", rows, "--days", str(args.days)),
    }
    summary = {what: bench(*command) for what, command in runs.items() if not args.only or what in args.only}
    print("\n== summary (issue 20's targets: see this file's docstring)")
    for what, lines in summary.items():
        print(f"{what}:")
        for line in lines:
            print("   ", line.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
