"""Benchmark: 10,000 users with one team membership each, from one YAML file.

Targets (issue 4): the whole `dbctl provision apply` command (a child process: start-up, YAML,
planning, writing) in at most 5 s and at most 3x the time of inserting the same rows with one
`INSERT ... SELECT FROM unnest(...)` per table (users, the team, memberships) in one transaction;
re-applying the unchanged spec in at most 1.5 s with zero rows written (no xmin moves).

Each measurement runs on a fresh clone of a migrated template; the median of --runs is reported.

    python bench/provision.py [--users 10000] [--runs 3] [--server postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers import Database, database_url  # noqa: E402

from litellm_dbctl import config, migrations  # noqa: E402

TABLES = ("LiteLLM_UserTable", "LiteLLM_TeamTable", "LiteLLM_TeamMembership", "LiteLLM_AuditLog",
          "LiteLLM_BudgetTable")

# The baseline is plain SQL on purpose: the fastest honest way to insert the same rows.
BASELINE_USERS = """
INSERT INTO "LiteLLM_UserTable" (user_id, user_email, user_alias, teams, models, metadata)
SELECT id, email, alias, ARRAY['bulk'], ARRAY[]::text[], '{}'::jsonb
FROM unnest(%(ids)s::text[], %(emails)s::text[], %(aliases)s::text[]) AS u(id, email, alias)
"""
BASELINE_TEAM = """
INSERT INTO "LiteLLM_TeamTable" (team_id, max_budget, members_with_roles, admins, members, models)
SELECT 'bulk', 1000, %(roster)s, ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[]
"""
BASELINE_MEMBERSHIPS = """
INSERT INTO "LiteLLM_TeamMembership" (user_id, team_id)
SELECT id, 'bulk' FROM unnest(%(ids)s::text[]) AS m(id)
"""


def spec_text(users: int) -> str:
    rows = "".join(f"  - user_email: user{i:05d}@example.com\n    user_alias: User {i}\n    teams: [bulk]\n"
                   for i in range(users))
    return "teams:\n  - team_id: bulk\n    max_budget: 1000\nusers:\n" + rows


def baseline(url: str, users: int) -> float:
    ids = [str(uuid.uuid4()) for _ in range(users)]
    emails = [f"user{i:05d}@example.com" for i in range(users)]
    aliases = [f"User {i}" for i in range(users)]
    roster = Jsonb([{"user_id": u, "user_email": e, "role": "user"} for u, e in zip(ids, emails)])
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        with conn.transaction():
            conn.execute(BASELINE_USERS, {"ids": ids, "emails": emails, "aliases": aliases})
            conn.execute(BASELINE_TEAM, {"roster": roster})
            conn.execute(BASELINE_MEMBERSHIPS, {"ids": ids})
        return time.perf_counter() - start


def baseline_command(url: str, users: int) -> float:
    """The baseline as a command too: a fresh interpreter that imports psycopg, builds the rows and
    inserts them (start-up included, as it is for dbctl)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--baseline-child", url, "--users", str(users)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"baseline child failed: {done.stderr}")
    return time.perf_counter() - start


def dbctl(url: str, *args: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("DATABASE_URL", "DBCTL_DATABASE_URL", "DIRECT_URL", "REDIS_URL"):
        env.pop(name, None)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "litellm_dbctl", "--database-url", url, *args],
                          capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"dbctl {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return elapsed


def xmins(url: str) -> set[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return {(table, row[0]) for table in TABLES
                for row in conn.execute(sql.SQL("SELECT xmin::text FROM {}").format(sql.Identifier(table)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--server", default=os.environ.get("DBCTL_TEST_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1/postgres"))
    parser.add_argument("--baseline-child", metavar="URL", help=argparse.SUPPRESS)
    options = parser.parse_args()
    compileall.compile_dir(ROOT / "litellm_dbctl", quiet=1)  # run as installed: with bytecode
    if options.baseline_child:
        baseline(options.baseline_child, options.users)
        return
    admin = Database(options.server)
    template = f"dbctl_bench_tpl_{uuid.uuid4().hex[:8]}"
    admin.create(template)
    created: list[str] = [template]
    try:
        migrations.deploy(config.parse(database_url(options.server, template), "bench"), migrations.load_source())

        def fresh() -> str:
            name = f"dbctl_bench_{uuid.uuid4().hex[:8]}"
            admin.create(name, template=template)
            created.append(name)
            return database_url(options.server, name)

        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "users.yaml"
            path.write_text(spec_text(options.users))
            base, base_command, apply_audit, apply_plain, reapply = [], [], [], [], []
            for _ in range(options.runs):
                base.append(baseline(fresh(), options.users))
                base_command.append(baseline_command(fresh(), options.users))
                url = fresh()
                apply_plain.append(dbctl(url, "provision", "apply", str(path), "--no-audit", "-q"))
                before = xmins(url)
                reapply.append(dbctl(url, "provision", "apply", str(path), "--no-audit", "-q"))
                if xmins(url) != before:
                    raise SystemExit("re-apply wrote rows: xmin moved")
                apply_audit.append(dbctl(fresh(), "provision", "apply", str(path), "-q"))
        median = statistics.median
        b, bc = median(base), median(base_command)
        print(f"{options.users} users, 1 team membership each; median of {options.runs} runs")
        print(f"{'baseline A: INSERT ... SELECT FROM unnest per table (SQL only)':<58} {b:7.3f} s")
        print(f"{'baseline B: the same as a command (python + psycopg + SQL)':<58} {bc:7.3f} s")
        for label, values in (("dbctl provision apply (whole command, --no-audit)", apply_plain),
                              ("dbctl provision apply (whole command, audit rows)", apply_audit)):
            m = median(values)
            print(f"{label:<58} {m:7.3f} s  {m / b:5.2f}x A  {m / bc:5.2f}x B  (target <= 5 s, <= 3x)")
        m = median(reapply)
        print(f"{'re-apply, unchanged (whole command, 0 rows written)':<58} {m:7.3f} s  (target <= 1.5 s)")
    finally:
        for name in created:
            admin.drop(name)


if __name__ == "__main__":
    main()
