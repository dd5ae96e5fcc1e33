"""The fast path of `migrate status`: it only ever answers "up to date", exactly as the full command."""

from __future__ import annotations

import pytest
from fix_migrate import migrate, with_params
from helpers import run_process

from litellm_dbctl.migrate import quickstatus


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
    assert quickstatus.run(["migrate", "status"]) is None  # no URL: the embedded default


def test_anything_but_up_to_date_takes_the_full_path(db, empty_db, source) -> None:
    url = ["--database-url", db.url, "migrate", "status"]
    assert quickstatus.run(["--database-url", empty_db.url, "migrate", "status"]) is None  # no ledger
    assert quickstatus.run(["--database-url", with_params(db.url, "schema=public"), "migrate", "status"]) is None
    assert quickstatus.run(["--database-url", with_params(db.url, "connection_limit=1"), "migrate", "status"]) is None
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


def test_through_the_entry_point(db) -> None:
    done = run_process(["--database-url", db.url, "migrate", "status"])
    assert done.returncode == 0 and done.stdout.endswith("applied\n")
    db.execute("DELETE FROM _prisma_migrations WHERE migration_name = '20250326162113_baseline'")
    pending = run_process(["--database-url", db.url, "migrate", "status"])
    assert pending.returncode == 3 and "20250326162113_baseline" in pending.stdout


def test_reads_the_same_source_as_the_full_command(source) -> None:
    label, checksums = quickstatus._packaged_source()
    assert label == source.label
    assert checksums == {m.name: m.checksum for m in source.migrations}
