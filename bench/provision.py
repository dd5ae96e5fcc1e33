"""Benchmark: 10,000 users with one team membership each, from one YAML file.

Targets (issue 4): the whole `dbctl provision apply` command (a child process: start-up, YAML,
planning, writing) in at most 5 s and at most 3x the time of inserting the same rows with one
`INSERT ... SELECT FROM unnest(...)` per table (users, the team, memberships) in one transaction;
re-applying the unchanged spec in at most 1.5 s with zero rows written (no xmin moves).

The command as run writes an audit row per created user and team (issue 4's deliverable 8); its
baseline (A+audit) inserts those same rows too, so the target compares like with like. As a
stricter check, `--no-audit` is compared with A: binary array parameters (the fastest INSERT found),
At: text array literals (what psycopg sends for `%s`), and B: A run as a Python command.

Each measurement runs on a fresh clone of a migrated template; the median of --runs is reported.

    python bench/provision.py [--users 10000] [--runs 3] [--server postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import compileall
import json
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

from helpers import Database, database_url

from litellm_dbctl.db import config
from litellm_dbctl.migrate.deploy import deploy
from litellm_dbctl.migrate.source import load_source

TABLES = ("LiteLLM_UserTable", "LiteLLM_TeamTable", "LiteLLM_TeamMembership", "LiteLLM_AuditLog",
          "LiteLLM_BudgetTable")

# The baseline is plain SQL on purpose: the fastest honest way to insert the same rows.
BASELINE_USERS = """
INSERT INTO "LiteLLM_UserTable" (user_id, user_email, user_alias, teams, models, metadata)
SELECT id, email, alias, ARRAY['bulk'], ARRAY[]::text[], '{}'::jsonb
FROM unnest(%(ids)b::text[], %(emails)b::text[], %(aliases)b::text[]) AS u(id, email, alias)
"""
BASELINE_TEAM = """
INSERT INTO "LiteLLM_TeamTable" (team_id, max_budget, members_with_roles, admins, members, models)
SELECT 'bulk', 1000, %(roster)s, ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[]
"""
BASELINE_MEMBERSHIPS = """
INSERT INTO "LiteLLM_TeamMembership" (user_id, team_id)
SELECT id, 'bulk' FROM unnest(%(ids)b::text[]) AS m(id)
"""
# With audit rows, "the same rows" include one LiteLLM_AuditLog row per created user and team,
# carrying the created row as JSON, as dbctl writes them.
BASELINE_AUDIT = """
INSERT INTO "LiteLLM_AuditLog" (id, changed_by, changed_by_api_key, action, table_name, object_id, updated_values)
SELECT id, 'dbctl', '', 'created', t, o, v::jsonb
FROM unnest(%(ids)b::text[], %(tables)b::text[], %(objects)b::text[], %(values)b::text[]) AS a(id, t, o, v)
"""


def spec_text(users: int) -> str:
    rows = "".join(f"  - user_email: user{i:05d}@example.com\n    user_alias: User {i}\n    teams: [bulk]\n"
                   for i in range(users))
    return "teams:\n  - team_id: bulk\n    max_budget: 1000\nusers:\n" + rows


def baseline(url: str, users: int, *, audit: bool = False, text_params: bool = False) -> float:
    """Seconds for the baseline's INSERTs. Array parameters go in binary (the fastest way found:
    a text array literal of 10,000 strings costs psycopg and the server ~0.1 s more); with
    `text_params`, as text literals, the baseline earlier sessions measured against."""
    ids = [str(uuid.uuid4()) for _ in range(users)]
    emails = [f"user{i:05d}@example.com" for i in range(users)]
    aliases = [f"User {i}" for i in range(users)]
    members = [{"user_id": u, "user_email": e, "role": "user"} for u, e in zip(ids, emails)]
    roster = Jsonb(members)
    if audit:  # the created rows as JSON, built before the clock starts (as the other parameters)
        user_rows = [json.dumps({**USER_ROW, "user_id": u, "user_email": e, "user_alias": a})
                     for u, e, a in zip(ids, emails, aliases)]
        team_row = json.dumps({**TEAM_ROW, "members_with_roles": members})
        entries = {"ids": [str(uuid.uuid4()) for _ in range(users + 1)],
                   "tables": ["LiteLLM_TeamTable"] + ["LiteLLM_UserTable"] * users,
                   "objects": ["bulk", *ids], "values": [team_row, *user_rows]}
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        with conn.transaction():
            conn.execute(_params(BASELINE_USERS, text_params), {"ids": ids, "emails": emails, "aliases": aliases})
            conn.execute(BASELINE_TEAM, {"roster": roster})
            conn.execute(_params(BASELINE_MEMBERSHIPS, text_params), {"ids": ids})
            if audit:
                conn.execute(_params(BASELINE_AUDIT, text_params), entries)
        return time.perf_counter() - start


def _params(query: str, text: bool) -> str:
    return query.replace(")b::", ")s::") if text else query


# The created rows' columns, as dbctl's audit rows carry them.
USER_ROW = {"sso_user_id": None, "user_role": None, "max_budget": None, "budget_duration": None,
            "budget_reset_at": None, "models": [], "tpm_limit": None, "rpm_limit": None,
            "max_parallel_requests": None, "metadata": {}, "teams": ["bulk"]}
TEAM_ROW = {"team_id": "bulk", "team_alias": None, "organization_id": None, "metadata": {}, "max_budget": 1000,
            "soft_budget": None, "models": [], "tpm_limit": None, "rpm_limit": None, "max_parallel_requests": None,
            "budget_duration": None, "budget_reset_at": None, "blocked": False}


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
        deploy(config.parse(database_url(options.server, template), "bench"), load_source())

        def fresh() -> str:
            name = f"dbctl_bench_{uuid.uuid4().hex[:8]}"
            admin.create(name, template=template)
            created.append(name)
            return database_url(options.server, name)

        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "users.yaml"
            path.write_text(spec_text(options.users))
            base, base_text, base_audit, base_command, apply_audit, apply_plain, reapply = [], [], [], [], [], [], []
            for _ in range(options.runs):
                base.append(baseline(fresh(), options.users))
                base_text.append(baseline(fresh(), options.users, text_params=True))
                base_audit.append(baseline(fresh(), options.users, audit=True))
                base_command.append(baseline_command(fresh(), options.users))
                url = fresh()
                apply_plain.append(dbctl(url, "provision", "apply", str(path), "--no-audit", "-q"))
                before = xmins(url)
                reapply.append(dbctl(url, "provision", "apply", str(path), "--no-audit", "-q"))
                if xmins(url) != before:
                    raise SystemExit("re-apply wrote rows: xmin moved")
                apply_audit.append(dbctl(fresh(), "provision", "apply", str(path), "-q"))
        median = statistics.median
        b, bt, ba, bc = median(base), median(base_text), median(base_audit), median(base_command)
        print(f"{options.users} users, 1 team membership each; median of {options.runs} runs")
        print(f"{'baseline A: INSERT ... SELECT FROM unnest per table (SQL only)':<58} {b:7.3f} s")
        print(f"{'baseline At: A with text array parameters':<58} {bt:7.3f} s")
        print(f"{'baseline A+audit: A, and the audit rows':<58} {ba:7.3f} s")
        print(f"{'baseline B: A as a command (python + psycopg + SQL)':<58} {bc:7.3f} s")
        m = median(apply_audit)
        print(f"{'dbctl provision apply (whole command, as run: audit rows)':<58} {m:7.3f} s  {m / ba:5.2f}x A+audit  "
              f"{m / b:5.2f}x A  (target <= 5 s, <= 3x the same rows)")
        m = median(apply_plain)
        print(f"{'dbctl provision apply --no-audit (whole command)':<58} {m:7.3f} s  {m / b:5.2f}x A  "
              f"{m / bt:5.2f}x At  {m / bc:5.2f}x B  (stricter: <= 3x)")
        m = median(reapply)
        print(f"{'re-apply, unchanged (whole command, 0 rows written)':<58} {m:7.3f} s  (target <= 1.5 s)")
    finally:
        for name in created:
            admin.drop(name)


if __name__ == "__main__":
    main()
