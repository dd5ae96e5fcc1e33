"""The output contract through the CLI: the data asked for is printed even with -q; a check that
fails names what it found; a named thing that is not there is exit 2; a usage error is one line."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import fix_budget as fx
import fix_daily
import psycopg
import pytest
from fix_redis import REDIS, redis_up
from helpers import Database, invoke, run_process

from litellm_dbctl.common.errors import ExitCode

UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nothing"  # usage errors are found before connecting
AUDIT_ID = "6f1b2c3d-0000-4000-8000-00000000a0d1"  # the audit row seed() writes


def seed(db: Database) -> None:
    fx.tier(db, "org-tier", max_budget=1000.0)
    fx.org(db, "acme", "org-tier", spend=10.0)
    fx.team(db, "research", team_alias="Research", organization_id="acme", spend=190.0, max_budget=100.0)
    fx.team(db, "ops", spend=10.0, max_budget=100.0)
    fx.user(db, "ada", teams=["research"], spend=1.0, max_budget=50.0)
    fx.key(db, "k-ops", key_alias="ops-key", team_id="ops", spend=1.0, max_budget=10.0)
    db.execute('INSERT INTO "LiteLLM_AuditLog" (id, action, table_name, object_id, before_value, updated_values) '
               "VALUES (%s, 'updated', 'LiteLLM_TeamTable', 'ops', '{\"spend\": 1}', '{\"spend\": 0}')",
               (AUDIT_ID,))


READ_COMMANDS = [
    ["db", "status"], ["db", "doctor"], ["queries", "list"], ["queries", "list", "ledger"],
    ["queries", "show", "ledger/rows"], ["migrate", "status"], ["migrate", "lint"],
    ["user", "list"], ["user", "show", "ada"], ["team", "list"], ["team", "show", "research"],
    ["org", "list"], ["org", "show", "acme"], ["key", "list"], ["key", "info", "ops-key"], ["budget", "status"],
    ["budget", "status", "--fail-over"], ["spend", "summary"], ["spend", "top", "--by", "team"],
    ["spend", "daily"], ["spend", "logs"], ["daily", "check"], ["queries", "check"],
    ["accounting", "status"], ["logs", "size"], ["audit", "list"], ["audit", "show", AUDIT_ID],
]
# `spend buffer` reads the proxies' Redis, not the database: walked where the machine's Redis runs.
if redis_up():
    READ_COMMANDS.append(["spend", "buffer", "--redis-url", REDIS, "--redis-namespace", "dbctl-contract-empty"])


# Not walked: they change things, need a file (`provision validate`), print no JSON (`embedded url`, `spend
# export`'s JSON lines: test_spend), or replay every migration (`migrate diff`: the quick start below).
NOT_READ = {"db embedded status", "db embedded stop", "db embedded url", "migrate deploy",
            "migrate resolve", "migrate baseline", "migrate diff", "migrate indexes", "user provision",
            "team provision", "team add-member", "team remove-member", "org provision", "org add-member",
            "org remove-member", "user delete", "user offboard", "team delete", "org delete", "key create",
            "key block", "key unblock", "key delete", "key update", "key rotate", "key prune", "provision apply",
            "provision validate", "budget sync", "spend export", "daily reconcile", "completions install",
            "accounting retry", "audit export", "budget reset", "logs archive", "logs prune", "logs scrub",
            "logs partition", "spend ingest"} | (
    set() if redis_up() else {"spend buffer"})  # needs the machine's Redis (fix_redis)


def test_the_walk_covers_every_read_command() -> None:
    from litellm_dbctl.cli import LazyGroup, command

    root = command()
    ctx = root.make_context("dbctl", ["--help"], resilient_parsing=True)
    assert isinstance(root, LazyGroup)
    leaves = []
    for name in root.list_commands(ctx):
        group = root.get_command(ctx, name)
        stack = [(name, group)]
        while stack:
            path, cmd = stack.pop()
            children = getattr(cmd, "commands", None)
            if children:
                stack.extend((f"{path} {child}", sub) for child, sub in children.items())
            else:
                leaves.append(path)
    walked = {next(" ".join(args[:n]) for n in range(len(args), 0, -1) if " ".join(args[:n]) in leaves)
              for args in READ_COMMANDS}
    assert set(leaves) - NOT_READ == walked


def test_quiet_json_of_every_read_command_is_printed(cli, db) -> None:
    seed(db)
    for args in READ_COMMANDS:
        result = cli("-q", *args, "--json")
        assert result.code in (0, 3), (args, result)
        assert result.stdout.strip(), (args, result)
        json.loads(result.stdout)


SPEND_TOP = ["spend", "top", "--by", "team", "--source", "logs", "--since", "2026-01-10", "--until", "2026-01-11"]


@pytest.mark.parametrize("args", [["team", "list"], SPEND_TOP, ["queries", "show", "ledger/rows"],
                                  ["--output", "csv", *SPEND_TOP], ["budget", "status"]])
def test_quiet_keeps_a_read_commands_table_and_csv(cli, db, args) -> None:
    seed(db)
    with psycopg.connect(db.url, autocommit=True) as conn:
        fix_daily.insert_logs(conn, fix_daily.plain_logs(5, fix_daily.FIRST_DAY, 1, 5))
    result = cli("-q", *args)
    assert result.code == 0 and result.stdout.strip() and result.stderr == "", (args, result)


def test_quiet_still_silences_a_successful_change_and_check(cli) -> None:
    assert cli("-q", "migrate", "indexes") == cli("-q", "db", "doctor") == cli("-q", "migrate", "status")
    assert (cli("-q", "db", "doctor").code, cli("-q", "db", "doctor").stdout) == (0, "")
    assert cli("-q", "migrate", "indexes").stderr == ""


def test_budget_status_fail_over_names_the_entities_over_budget(cli, db) -> None:
    seed(db)
    failed = cli("-q", "budget", "status", "--fail-over")
    assert failed.code == ExitCode.PENDING and failed.stdout == ""
    assert failed.stderr == "dbctl: 1 entity over budget: team research (Research) spent 190 of 100\n"
    as_json = cli("budget", "status", "--fail-over", "--json")
    assert as_json.code == 3 and "team research" in as_json.stderr and json.loads(as_json.stdout)


def test_migrate_status_names_the_pending_migrations(cli, db, source) -> None:
    newest = source.migrations[-1].name
    db.execute("DELETE FROM _prisma_migrations WHERE migration_name = %s", (newest,))
    result = cli("-q", "migrate", "status")
    assert result.code == ExitCode.PENDING and result.stdout == ""
    assert result.stderr.startswith("dbctl: 220 migrations") and f": {newest} (pending)\n" in result.stderr


def test_daily_check_names_the_drifted_day_tables(cli, db) -> None:
    with psycopg.connect(db.url, autocommit=True) as conn:
        fix_daily.insert_logs(conn, fix_daily.plain_logs(5, fix_daily.FIRST_DAY, 1, 5))
    result = cli("-q", "daily", "check", "--since", "2026-01-10", "--until", "2026-01-10", "--table", "team,tag")
    assert result.code == ExitCode.PENDING and result.stdout == ""
    assert result.stderr.startswith("dbctl: drift in 2 of 2 day-tables")
    assert result.stderr.endswith(": 2026-01-10 team, 2026-01-10 tag\n")


def test_db_doctor_exit_3_naming_the_failed_check_and_1_when_it_cannot_run(cli) -> None:
    failed = cli("-q", "db", "doctor")
    assert failed.code == ExitCode.PENDING and failed.stdout == ""
    assert failed.stderr.startswith("dbctl: doctor: 2 check(s) failed: index LiteLLM_SpendLogs_api_key_startTime_idx")
    unreachable = invoke(["--database-url", UNREACHABLE, "db", "doctor"])
    assert unreachable.code == ExitCode.ERROR
    assert [line for line in unreachable.stderr.splitlines() if line.startswith("dbctl: error:")] == \
        [unreachable.stderr.splitlines()[0]]
    assert "cannot run the checks: cannot connect to 127.0.0.1:1" in unreachable.stderr


@pytest.mark.parametrize(("args", "error"), [
    (["queries", "list", "nosucharea"], "dbctl: error: no query area 'nosucharea'"),
    (["queries", "show", "ledger/nosuch"], "dbctl: error: no query named 'ledger/nosuch'"),
    (["spend", "logs", "--request-id", "nosuch"],
     "dbctl: error: --request-id: no spend log with request_id or litellm_call_id 'nosuch'"),
    (["daily", "check", "--table", "nosuch"], "dbctl: error: --table: unknown daily table 'nosuch'"),
    (["migrate", "deploy", "--to", "nosuch", "--dry-run"], "dbctl: error: no migration named 'nosuch'"),
    (["migrate", "resolve", "--applied", "nosuch"], "dbctl: error: no migration named 'nosuch'"),
])
def test_a_named_thing_that_is_not_there_is_exit_2(cli, args, error) -> None:
    result = cli(*args)
    assert result.code == ExitCode.USAGE and result.stdout == "", result
    assert next(line for line in result.stderr.splitlines() if line.startswith("dbctl: error:")).startswith(error)


def test_a_near_miss_area_gets_the_closest_as_hint(cli) -> None:
    assert cli("queries", "list", "ledgr").stderr == "dbctl: error: no query area 'ledgr'\ndbctl: hint: did you mean ledger?\n"


@pytest.mark.parametrize(("args", "error", "hint"), [
    (["nosuch"], "no such command: nosuch", "see `dbctl --help`"),
    (["spnd", "top"], "no such command: spnd", "did you mean `dbctl spend`?"),
    (["migrate", "stats"], "no such command: migrate stats", "did you mean `dbctl migrate status`?"),
    (["budget", "status", "--fail-ove"], "no such option: --fail-ove", "did you mean --fail-over?"),
    (["spend", "top", "--jsn"], "no such option: --jsn", "did you mean --json?"),
    (["--databse-url", "x", "db", "status"], "no such option: --databse-url", "did you mean --database-url?"),
    (["queries", "show"], "missing argument 'name'", "see `dbctl queries show --help`"),
    (["spend", "top"], "missing option '--by'", "see `dbctl spend top --help`"),
    (["spend", "top", "--by"], "option '--by' requires an argument", None),
    (["--output", "xml", "db", "status"], "invalid value for '--output': must be table, json or csv, not 'xml'",
     "see `dbctl --help`"),
    (["spend", "top", "--by", "team", "--limit", "x"], "invalid value for '--limit' / '-n': 'x' is not a valid int",
     "see `dbctl spend top --help`"),
    (["team", "provision", "--alias", "x", "--budget-duration", "7x"], "--budget-duration: invalid duration '7x'", None),
    (["team", "provision", "--alias", "x", "--team-member-budget-duration", "7x"],
     "--team-member-budget-duration: invalid duration '7x'", None),
    (["user", "provision", "--email", "not-an-email"], "--email: not an email address", None),
    (["spend", "logs", "--since", "yesterdayy"], "--since 'yesterdayy'", None),
])
def test_a_usage_error_is_one_line_and_at_most_one_hint(args, error, hint) -> None:
    result = invoke(["--database-url", UNREACHABLE, *args])
    assert result.code == ExitCode.USAGE and result.stdout == "", result
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"dbctl: error: {error}"), result
    assert lines[1:] == ([f"dbctl: hint: {hint}"] if hint else []), result


@pytest.fixture
def embedded_dir():
    base = Path(tempfile.mkdtemp(prefix="dbctl-h6-embedded-"))
    yield base / "pg"
    run_process(["db", "embedded", "stop"], env={"DBCTL_EMBEDDED_DIR": str(base / "pg")})
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_quick_start_on_the_embedded_default(embedded_dir) -> None:
    """README's quick start, then `migrate diff`: its scratch database is made on the embedded
    server (its URL was built from the empty placeholder URL)."""
    env = {"DBCTL_EMBEDDED_DIR": str(embedded_dir)}
    for args in (["migrate", "deploy"], ["migrate", "indexes"], ["db", "doctor"], ["migrate", "diff"]):
        result = run_process(["--embedded", "-q", *args], env=env)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), (args, result)


def test_budget_sync_check_names_what_it_would_change(cli, db) -> None:
    fx.key(db, "k-due", key_alias="due", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
    quiet = cli("-q", "budget", "sync", "--now", "2026-06-10T12:00:00Z", "--check")
    assert quiet.code == ExitCode.PENDING and quiet.stdout == ""
    assert quiet.stderr.startswith("dbctl: would change: 1 window(s) reset") and quiet.stderr.endswith(": key k-due\n")
    as_json = cli("-q", "budget", "sync", "--now", "2026-06-10T12:00:00Z", "--check", "--json")
    assert as_json.code == ExitCode.PENDING and as_json.json()["dry_run"] is True


def test_daily_reconcile_dry_run_names_the_day_tables_it_would_change(cli, db) -> None:
    with psycopg.connect(db.url, autocommit=True) as conn:
        fix_daily.insert_logs(conn, fix_daily.plain_logs(5, fix_daily.FIRST_DAY, 1, 5))
    result = cli("-q", "daily", "reconcile", "--since", "2026-01-10", "--until", "2026-01-10", "--table", "team",
                 "--dry-run")
    assert result.code == ExitCode.PENDING and result.stdout == ""
    assert result.stderr == "dbctl: would change 1 of 1 day(s): 2026-01-10 team\n"


def test_a_dry_run_provision_names_what_it_would_change(cli) -> None:
    result = cli("-q", "team", "provision", "--team-id", "newteam", "--max-budget", "5", "--dry-run")
    assert (result.code, result.stdout, result.stderr) == (3, "", "dbctl: 1 change(s) pending: create team newteam\n")


@pytest.mark.parametrize("args, flag", [
    (["spend", "summary", "--timezone", "Nowhere/X"], "--timezone"),
    (["budget", "sync", "--dry-run", "--timezone", "Nowhere/X"], "--timezone"),
    (["budget", "sync", "--dry-run", "--budget-reset-time", "25:99"], "--budget-reset-time"),
    (["provision", "validate", "-", "--timezone", "Bad/Zone"], "--timezone"),
    (["user", "provision", "--user-id", "u", "--budget-reset-time", "9"], "--budget-reset-time"),
    (["team", "provision", "--team-id", "t", "--timezone", "X"], "--timezone"),
])
def test_a_bad_zone_or_reset_time_names_its_flag_before_connecting(args: list[str], flag: str) -> None:
    result = invoke(["--database-url", "postgresql://postgres@127.0.0.1:1/postgres", *args], input="")
    assert result.code == 2, result
    assert result.stderr.splitlines()[0].startswith(f"dbctl: error: {flag}: "), result
    assert len(result.stderr.splitlines()) == 1, result
