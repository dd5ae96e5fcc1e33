"""Benchmark: `dbctl budget sync` against hand-written set-based resets, measured in the same run.

Seeds --entities keys, users and teams in all (default 100,000, the issue's figure: split evenly,
33,334 keys + 33,333 users + 33,333 teams) whose budget windows are all due, then alternates, each
round on freshly re-armed and vacuumed tables:
  baseline  one hand-written UPDATE per table doing the same reset (spend = 0, next budget_reset_at)
  library   budgets.sync() from Python (plan + guarded apply, one transaction, advisory lock)
  cli       `python -m litellm_dbctl budget sync -q` as a cron job runs it (interpreter start included)
and finally a sync with nothing due (library and cli). Prints medians and the ratio to the baseline.

    python bench/budget.py [--entities 100000] [--rounds 3] [--server postgresql://postgres@127.0.0.1/postgres]

Targets (issue 5): the reset at most 3 s and at most 2x the baseline; nothing due at most 0.5 s.
`--entities 300000` is the stricter reading earlier sessions measured (100,000 of each kind).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg

from litellm_dbctl.budget import sync as budgets
from litellm_dbctl.db import config
from litellm_dbctl.migrate.deploy import deploy
from litellm_dbctl.migrate.source import load_source

NOW = datetime(2026, 6, 10, 12, tzinfo=timezone.utc)
PAST = datetime(2026, 3, 1)
NEXT = datetime(2026, 6, 11)
TABLES = (("LiteLLM_VerificationToken", "token"), ("LiteLLM_UserTable", "user_id"), ("LiteLLM_TeamTable", "team_id"))


def url_for(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def split(entities: int) -> tuple[int, int, int]:
    """(keys, users, teams): `entities` in all, as even as can be, keys taking the remainder first."""
    share, extra = divmod(entities, len(TABLES))
    return tuple(share + (1 if position < extra else 0) for position in range(len(TABLES)))  # type: ignore[return-value]


def seed(url: str, counts: tuple[int, int, int]) -> None:
    keys, users, teams = counts
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute('INSERT INTO "LiteLLM_VerificationToken" (token, key_alias, spend, max_budget, budget_duration, '
                     "budget_reset_at) SELECT md5(i::text), 'k' || i, random() * 10, 10, '1d', %s "
                     "FROM generate_series(1, %s) AS i", (PAST, keys))
        conn.execute('INSERT INTO "LiteLLM_UserTable" (user_id, spend, max_budget, budget_duration, budget_reset_at) '
                     "SELECT 'u' || i, random() * 10, 10, '1d', %s FROM generate_series(1, %s) AS i", (PAST, users))
        conn.execute('INSERT INTO "LiteLLM_TeamTable" (team_id, spend, max_budget, budget_duration, budget_reset_at) '
                     "SELECT 't' || i, random() * 10, 10, '1d', %s FROM generate_series(1, %s) AS i", (PAST, teams))


def rearm(url: str) -> None:
    """Make every window due again, then vacuum, so each measured run starts from the same state."""
    with psycopg.connect(url, autocommit=True) as conn:
        for table, _ in TABLES:
            conn.execute(f'UPDATE "{table}" SET spend = 5, budget_reset_at = %s', (PAST,))
        for table, _ in TABLES:
            conn.execute(f'VACUUM ANALYZE "{table}"')


def baseline(url: str) -> float:
    naive_now = NOW.replace(tzinfo=None)
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        conn.execute('UPDATE "LiteLLM_VerificationToken" SET spend = 0, budget_reset_at = %s '
                     "WHERE budget_duration IS NOT NULL AND (expires IS NULL OR expires > %s) "
                     "AND budget_reset_at < %s", (NEXT, naive_now, naive_now))
        for table in ("LiteLLM_UserTable", "LiteLLM_TeamTable"):
            conn.execute(f'UPDATE "{table}" SET spend = 0, budget_reset_at = %s '
                         "WHERE budget_duration IS NOT NULL AND (budget_reset_at IS NULL OR budget_reset_at < %s)",
                         (NEXT, naive_now))
        conn.commit()
        return time.perf_counter() - started


def library(url: str, expected: int | None) -> float:
    started = time.perf_counter()
    result = budgets.sync(config.parse(url, "bench"), budgets.SyncOptions(now=NOW))
    seconds = time.perf_counter() - started
    if expected is not None:
        assert result.counts()["reset"] == expected, result.summary()
    return seconds


def cli(url: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "litellm_dbctl", "--database-url", url, "budget", "sync", "--now",
                    NOW.isoformat(), "-q"], check=True, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000,
                        help="keys, users and teams in all, split evenly (default: the issue's 100,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", default=os.environ.get("DBCTL_TEST_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1/postgres"))
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "litellm_dbctl", quiet=1)  # run as installed: with bytecode
    name = f"dbctl_bench_budget_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = url_for(args.server, name)
    try:
        deploy(config.parse(url, "bench"), load_source())
        counts = split(args.entities)
        seed(url, counts)
        runs = {"baseline": baseline, "library": lambda u: library(u, args.entities), "cli": cli}
        times: dict[str, list[float]] = {label: [] for label in runs}
        for _ in range(args.rounds):
            for label, run in runs.items():
                rearm(url)
                times[label].append(run(url))
        idle = [library(url, 0) for _ in range(args.rounds)]
        idle_cli = [cli(url) for _ in range(args.rounds)]
        print(f"budget sync, {args.entities:,} windows due ({counts[0]:,} keys + {counts[1]:,} users + "
              f"{counts[2]:,} teams), median of {args.rounds} rounds")
        print("  (ratio: median over rounds of run / baseline of the same round; the machine is shared)")
        for label, values in times.items():
            median = statistics.median(values)
            ratio = statistics.median(v / b for v, b in zip(values, times["baseline"]))
            target = "" if label == "baseline" else "   (target <= 3 s, <= 2x)"
            print(f"  {label:<9} {median:7.3f} s   {ratio:5.2f}x baseline   "
                  f"(runs: {', '.join(f'{v:.3f}' for v in values)}){target}")
        for label, values in (("library", idle), ("cli", idle_cli)):
            print(f"  nothing due ({label}) {statistics.median(values):.3f} s   "
                  f"(runs: {', '.join(f'{v:.3f}' for v in values)})   (target <= 0.5 s)")
    finally:
        with psycopg.connect(args.server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
