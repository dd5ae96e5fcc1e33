"""Time dbctl's table writer on 10k rows x 10 columns (ids, an email, numbers, a percent, timestamps).

    python bench/tables.py [--rows 10000] [--repeat 5]

Measures, in one process, the median CPU time of --repeat runs of `tables.write` into /dev/null:
1. a pipe (the plain writer: every cell whole, one row a line; the path that must keep up with 100k rows);
2. a terminal of 100 columns (TTY_COMPATIBLE=1 COLUMNS=100: rich fits the table, cuts ids with an ellipsis);
and rich's import on its own (a fresh process), which only a terminal pays.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from litellm_dbctl.cli import tables


def records(count: int) -> list[dict[str, Any]]:
    return [{"id": f"key-{i:08d}-3f9a1c2e8b7d", "alias": f"team-alias-{i % 97}", "user": f"user{i}@example.com",
             "model": "gpt-4o-mini", "spend": Decimal(i) / 7, "requests": i * 3, "share": tables.Percent(i / 100),
             "created": datetime(2026, 1, 1) + timedelta(minutes=i), "status": "ok" if i % 3 else "failed",
             "tags": ["a", "b"]} for i in range(count)]


def timed(rows: list[dict[str, Any]], env: dict[str, str], repeat: int) -> float:
    runs = []
    with open(os.devnull, "w") as sink, mock.patch.dict(os.environ, env), mock.patch.object(sys, "stdout", sink):
        for _ in range(repeat):
            started = time.process_time()  # CPU time: the machine may be shared
            tables.write(rows, list(rows[0]), color=False)
            runs.append(time.process_time() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = records(args.rows)
    print(f"{args.rows} rows x {len(rows[0])} columns, median CPU time of {args.repeat}")
    print(f"  pipe (plain writer)       {timed(rows, {'TTY_COMPATIBLE': '0'}, args.repeat):.3f} s")
    print(f"  terminal, 100 columns     {timed(rows, {'TTY_COMPATIBLE': '1', 'COLUMNS': '100'}, args.repeat):.3f} s")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import rich.console, rich.table"], check=True)
    floor = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    print(f"  rich import (terminal only) {(floor - started) - (time.perf_counter() - floor):.3f} s")


if __name__ == "__main__":
    main()
