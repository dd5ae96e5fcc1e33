"""Benchmark `dbctl migrate` against baselines measured in the same run (medians of interleaved runs).

1. deploy: LiteLLM's full migration history on an empty database. The whole `dbctl migrate deploy`
   process against a process that applies the same files over one psycopg connection, with no
   ledger and no CLI. Target: at most 1.5x.
2. status: `dbctl migrate status` on an up-to-date database against `dbctl --version`, for
   reference. (Its old target, 2x, was met by a fast path that answered through libpq over ctypes
   with a parser of its own; it went in issue 16, as a second implementation of the command.)

Server: DBCTL_BENCH_DATABASE_URL, else DBCTL_TEST_DATABASE_URL (an admin URL), else the embedded one.
Usage: python bench/migrate.py [--runs 5] [--status-runs 21]
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
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
APPLY_OVER_ONE_CONNECTION = """
import sys, psycopg
from pathlib import Path
import litellm_proxy_extras
directory = Path(litellm_proxy_extras.__file__).parent / "migrations"
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    for script in sorted(p / "migration.sql" for p in directory.iterdir() if p.is_dir()):
        conn.execute(script.read_text())
"""


def server_url() -> str:
    url = os.environ.get("DBCTL_BENCH_DATABASE_URL") or os.environ.get("DBCTL_TEST_DATABASE_URL")
    if url:
        return url
    sys.path.insert(0, str(ROOT))
    from litellm_dbctl.db import embedded

    return embedded.ensure_running(embedded.data_dir()).url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


class Databases:
    """Fresh empty databases on the server, all dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.names: list[str] = []

    def fresh(self) -> str:
        name = f"dbctl_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.names.append(name)
        return with_database(self.admin_url, name)

    def drop_all(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.names:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def timed(command: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("DATABASE_URL", "DIRECT_URL", "DBCTL_DATABASE_URL"):
        env.pop(name, None)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-500:]}")
    return elapsed


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="deploy runs per side")
    parser.add_argument("--status-runs", type=int, default=21, help="status runs per side")
    options = parser.parse_args()
    compileall.compile_dir(ROOT / "litellm_dbctl", quiet=1)  # run as installed: with bytecode
    dbctl = [sys.executable, "-m", "litellm_dbctl"]
    databases = Databases(server_url())
    try:
        baseline, deploy = [], []
        for _ in range(options.runs):  # interleaved, so drift on a shared machine hits both sides
            baseline.append(timed([sys.executable, "-c", APPLY_OVER_ONE_CONNECTION, databases.fresh()]))
            deploy.append(timed([*dbctl, "-q", "--database-url", databases.fresh(), "migrate", "deploy"]))
        ratio = statistics.median(deploy) / statistics.median(baseline)
        print("deploy of LiteLLM's full history on an empty database")
        print(f"  files over one psycopg connection (process) {median_ms(baseline)}")
        print(f"  dbctl migrate deploy (process)              {median_ms(deploy)}")
        print(f"  ratio {ratio:.2f}x (target <= 1.5x)")

        url = with_database(databases.admin_url, databases.names[-1])  # migrated by the last deploy
        version, status = [], []
        for _ in range(options.status_runs):
            version.append(timed([*dbctl, "--version"]))
            status.append(timed([*dbctl, "-q", "--database-url", url, "migrate", "status"]))
        ratio = statistics.median(status) / statistics.median(version)
        print("status of an up-to-date database")
        print(f"  dbctl --version                       {median_ms(version)}")
        print(f"  dbctl migrate status                  {median_ms(status)}")
        print(f"  ratio {ratio:.2f}x (for reference)")
    finally:
        databases.drop_all()


if __name__ == "__main__":
    main()
