"""The fast path of `migrate status`: it only ever answers "up to date", exactly as the full command."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fix_migrate import migrate, with_params
from helpers import ROOT, run_process

from litellm_dbctl.db import config, database
from litellm_dbctl.migrate import ledger, quickstatus


def test_up_to_date_answer_matches_the_full_command(db, capsys: pytest.CaptureFixture[str]) -> None:
    assert quickstatus.run(["--database-url", db.url, "migrate", "status"]) == 0
    fast = capsys.readouterr()
    full = migrate(db, "status")
    assert full.code == 0
    assert (fast.out, fast.err) == (full.stdout, full.stderr)
    assert quickstatus.run(["-q", "migrate", "status", "--database-url", db.url]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("extra", [["--json"], ["-v"], ["--output", "csv"], ["--migrations-dir", "x"], ["extra"]])
def test_other_command_lines_take_the_full_path(db, extra: list[str]) -> None:
    assert quickstatus.run(["--database-url", db.url, "migrate", "status", *extra]) is None
    assert quickstatus.run(["--database-url", db.url, "migrate", "deploy"]) is None


def test_no_url_takes_the_full_path(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DBCTL_DATABASE_URL", "DATABASE_URL", "DIRECT_URL"):
        monkeypatch.delenv(name, raising=False)
    assert quickstatus.run(["migrate", "status"]) is None  # the embedded default


def test_anything_but_up_to_date_takes_the_full_path(db, empty_db, source) -> None:
    url = ["--database-url", db.url, "migrate", "status"]
    assert quickstatus.run(["--database-url", empty_db.url, "migrate", "status"]) is None  # no ledger
    assert quickstatus.run(["--database-url", "postgresql://h:70000/x", "migrate", "status"]) is None  # bad URL
    newest = source.names()[-1]
    db.execute("INSERT INTO _prisma_migrations (id, checksum, migration_name, finished_at, applied_steps_count) "
               "VALUES ('x', 'y', '20200101000000_from_a_newer_release', now(), 1)")
    assert quickstatus.run(url) is None  # a row only in the database: the full command lists it
    db.execute("DELETE FROM _prisma_migrations WHERE id = 'x'")
    db.execute("UPDATE _prisma_migrations SET checksum = upper(checksum) WHERE migration_name = %s", (newest,))
    assert quickstatus.run(url) is None  # modified
    db.execute("UPDATE _prisma_migrations SET checksum = lower(checksum), finished_at = NULL WHERE migration_name = %s",
               (newest,))
    assert quickstatus.run(url) is None  # failed
    db.execute("DELETE FROM _prisma_migrations WHERE migration_name = %s", (newest,))
    assert quickstatus.run(url) is None  # pending


def test_prisma_url_parameters_are_resolved_as_the_full_command_does(db, capsys: pytest.CaptureFixture[str]) -> None:
    for params in ("schema=public", "connection_limit=1&pool_timeout=5"):
        url = with_params(db.url, params)
        assert quickstatus.run(["--database-url", url, "migrate", "status"]) == 0
        assert capsys.readouterr().out == migrate(db, "status").stdout
    assert quickstatus.run(["--database-url", with_params(db.url, "schema=nowhere"), "migrate", "status"]) is None


def test_reads_the_same_ledger_rows_as_the_full_command(db) -> None:
    target = config.parse(db.url, "test")
    db.execute("UPDATE _prisma_migrations SET logs = 'a log', rolled_back_at = now() - interval '1 day 0.5 s' "
               "WHERE migration_name = '20250326162113_baseline'")
    with database.connect(target, command="test", read_only=True) as conn:
        assert quickstatus._ledger(target) == ledger.read_ledger(conn)


def test_schema_of_database_url_applies_to_direct_url(db) -> None:
    """DATABASE_URL names the schema and DIRECT_URL (used for migrations) does not: the ledger is the
    one in DATABASE_URL's schema, for the fast path as for the full command. It used to be read in
    public: "up to date" while the schema's own ledger had a pending migration."""
    db.execute("CREATE SCHEMA litellm")
    db.execute("CREATE TABLE litellm._prisma_migrations AS TABLE public._prisma_migrations")
    db.execute("DELETE FROM litellm._prisma_migrations WHERE migration_name = "
               "(SELECT max(migration_name) FROM litellm._prisma_migrations)")
    env = {"DATABASE_URL": with_params(db.url, "schema=litellm"), "DIRECT_URL": db.url}
    pending = run_process(["migrate", "status"], env=env)
    assert pending.returncode == 3, pending
    assert "1 pending" in pending.stdout
    db.execute("INSERT INTO litellm._prisma_migrations SELECT * FROM public._prisma_migrations "
               "WHERE migration_name = (SELECT max(migration_name) FROM public._prisma_migrations)")
    db.execute("DELETE FROM public._prisma_migrations")
    with pytest.MonkeyPatch.context() as patch:  # public's ledger is empty now: an answer comes from litellm's
        for name, value in env.items():
            patch.setenv(name, value)
        patch.delenv("DBCTL_DATABASE_URL", raising=False)
        assert quickstatus.run(["-q", "migrate", "status"]) == 0
    up_to_date = run_process(["migrate", "status"], env=env)
    assert up_to_date.returncode == 0 and up_to_date.stdout.endswith(" applied\n"), up_to_date


def test_through_the_entry_point(db) -> None:
    done = run_process(["--database-url", db.url, "migrate", "status"])
    assert done.returncode == 0 and done.stdout.endswith("applied\n")
    db.execute("DELETE FROM _prisma_migrations WHERE migration_name = '20250326162113_baseline'")
    pending = run_process(["--database-url", db.url, "migrate", "status"])
    assert pending.returncode == 3 and "20250326162113_baseline" in pending.stdout


def test_answers_without_typer_or_psycopg(db) -> None:
    """What the fast path exists for: neither is imported when it answers (then it is no cheaper
    than the full command, and should go)."""
    script = ("import sys\nfrom litellm_dbctl.migrate import quickstatus\n"
              f"assert quickstatus.run(['-q', '--database-url', {db.url!r}, 'migrate', 'status']) == 0\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'click', 'psycopg', 'rich')))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout == "[]\n", done
