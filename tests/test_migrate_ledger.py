"""The `_prisma_migrations` ledger: failure and resolve lifecycles, modified files, Prisma-written rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from fix_migrate import PRISMA_LEDGER_DDL, insert_prisma_row, ledger, migrate, sha256, write_migrations
from hypothesis import given
from hypothesis import strategies as st

from litellm_dbctl.migrate.source import Migration, checksum_matches

ONE = "20240101000000_one"
TWO = "20240102000000_two"
THREE = "20240103000000_three"


@pytest.fixture
def failing(tmp_path: Path) -> Path:
    """Three migrations; the second creates a table, then fails."""
    return write_migrations(tmp_path / "m", {
        ONE: "CREATE TABLE one (id int);",
        TWO: "CREATE TABLE two (id int);\n\nINSERT INTO missing VALUES (1);\n",
        THREE: "CREATE TABLE three (id int);",
    })


def test_failed_migration_blocks_until_rolled_back(empty_db, failing: Path) -> None:
    result = migrate(empty_db, "deploy", "--migrations-dir", str(failing))
    assert result.code == 1, result
    assert TWO in result.stderr and "line 3" in result.stderr and "42P01" in result.stderr
    rows = ledger(empty_db)
    assert [r["migration_name"] for r in rows] == [ONE, TWO]
    failed = rows[1]
    assert failed["finished_at"] is None and failed["rolled_back_at"] is None
    assert failed["applied_steps_count"] == 0
    assert 'relation "missing" does not exist' in failed["logs"] and "42P01" in failed["logs"]
    assert empty_db.value("SELECT to_regclass('two') IS NULL") is True  # the file was atomic

    status = migrate(empty_db, "status", "--migrations-dir", str(failing), "--json")
    assert status.code == 4
    states = {m["name"]: m["state"] for m in status.json()["migrations"]}
    assert states == {ONE: "applied", TWO: "failed", THREE: "pending"}

    refused = migrate(empty_db, "deploy", "--migrations-dir", str(failing))
    assert refused.code == 4, refused
    assert TWO in refused.stderr and "P3009" in refused.stderr
    assert f"--rolled-back {TWO}" in refused.stderr and f"--applied {TWO}" in refused.stderr

    dry = migrate(empty_db, "resolve", "--rolled-back", TWO, "--migrations-dir", str(failing), "--dry-run")
    assert dry.code == 3 and ledger(empty_db)[1]["rolled_back_at"] is None
    resolved = migrate(empty_db, "resolve", "--rolled-back", TWO, "--migrations-dir", str(failing))
    assert resolved.code == 0, resolved
    assert ledger(empty_db)[1]["rolled_back_at"] is not None

    (failing / TWO / "migration.sql").write_text("CREATE TABLE two (id int);\n")
    fixed = migrate(empty_db, "deploy", "--migrations-dir", str(failing), "--json")
    assert fixed.code == 0, fixed
    assert fixed.json()["applied"] == [TWO, THREE]
    rows = ledger(empty_db)
    assert [r["migration_name"] for r in rows] == [ONE, TWO, TWO, THREE]  # history kept
    assert migrate(empty_db, "status", "--migrations-dir", str(failing)).code == 0


def test_resolve_applied_keeps_history_and_adds_a_row(empty_db, failing: Path) -> None:
    migrate(empty_db, "deploy", "--migrations-dir", str(failing))
    empty_db.execute("CREATE TABLE two (id int)")  # the operator finished it by hand
    result = migrate(empty_db, "resolve", "--applied", TWO, "--migrations-dir", str(failing), "--json")
    assert result.code == 0, result
    assert result.json() == {"migration": TWO, "resolved": "applied", "rows_rolled_back": 1,
                             "created_ledger": False, "dry_run": False}
    rows = [r for r in ledger(empty_db) if r["migration_name"] == TWO]
    assert len(rows) == 2
    old, new = rows
    assert old["finished_at"] is None and old["rolled_back_at"] is not None and old["logs"]
    assert new["logs"] == "" and new["started_at"] == new["finished_at"] and new["rolled_back_at"] is None
    assert new["applied_steps_count"] == 0
    assert new["checksum"] == sha256((failing / TWO / "migration.sql").read_bytes())
    result = migrate(empty_db, "deploy", "--migrations-dir", str(failing), "--json")
    assert result.code == 0 and result.json()["applied"] == [THREE]


def test_resolve_errors_follow_prisma(empty_db, failing: Path) -> None:
    migrate(empty_db, "deploy", "--migrations-dir", str(failing))
    cases = [
        (["--applied", "20240109000000_nope"], "P3017"),
        (["--applied", ONE], "P3008"),
        (["--rolled-back", ONE], "P3012"),
        (["--rolled-back", THREE], "P3011"),
        ([], "exactly one"),
        (["--applied", ONE, "--rolled-back", TWO], "exactly one"),
    ]
    before = ledger(empty_db)
    for args, code in cases:
        result = migrate(empty_db, "resolve", *args, "--migrations-dir", str(failing))
        assert result.code == 2, (args, result)
        assert code in result.stderr, (args, result)
    assert ledger(empty_db) == before


def test_resolve_applied_creates_the_ledger(empty_db, failing: Path) -> None:
    result = migrate(empty_db, "resolve", "--applied", ONE, "--migrations-dir", str(failing))
    assert result.code == 0, result
    assert [r["migration_name"] for r in ledger(empty_db)] == [ONE]


def test_modified_applied_file(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {ONE: "CREATE TABLE one (id int);\n"})
    assert migrate(empty_db, "deploy", "--migrations-dir", str(directory)).code == 0
    (directory / ONE / "migration.sql").write_bytes(b"CREATE TABLE one (id int);\r\n")  # git autocrlf: same
    assert migrate(empty_db, "status", "--migrations-dir", str(directory)).code == 0
    (directory / ONE / "migration.sql").write_text("CREATE TABLE one (id bigint);\n")
    status = migrate(empty_db, "status", "--migrations-dir", str(directory), "--json")
    assert status.code == 4
    assert status.json()["migrations"][0]["state"] == "modified"
    write_migrations(directory, {TWO: "CREATE TABLE two (id int);"})
    refused = migrate(empty_db, "deploy", "--migrations-dir", str(directory))
    assert refused.code == 4 and ONE in refused.stderr and "--allow-modified" in refused.stderr
    assert migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--allow-modified").code == 0
    assert empty_db.value("SELECT to_regclass('two') IS NOT NULL") is True


def test_prisma_written_ledger_reads_correctly(empty_db, tmp_path: Path) -> None:
    lf = "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n"
    crlf = lf.replace("\n", "\r\n")
    directory = write_migrations(tmp_path / "m", {
        "20240101000000_exact": lf.encode(),
        "20240102000000_now_crlf": crlf.encode(),  # applied as LF, checked out with CRLF since
        "20240103000000_now_lf": lf.encode(),  # applied as CRLF
        "20240104000000_unpadded": lf.encode(),  # an old engine stored hex without zero padding
        "20240105000000_resolved": lf.encode(),  # `prisma migrate resolve --applied`
        "20240106000000_retried": lf.encode(),  # failed, rolled back, applied again
        "20240107000000_new": lf.encode(),
    })
    digest = __import__("hashlib").sha256(lf.encode()).digest()
    unpadded = "".join(f"{b:x}" for b in digest)
    assert len(unpadded) < 64  # the test needs a digest with a byte below 0x10
    empty_db.execute(PRISMA_LEDGER_DDL)
    insert_prisma_row(empty_db, "20240101000000_exact", sha256(lf))
    insert_prisma_row(empty_db, "20240102000000_now_crlf", sha256(lf))
    insert_prisma_row(empty_db, "20240103000000_now_lf", sha256(crlf))
    insert_prisma_row(empty_db, "20240104000000_unpadded", unpadded)
    insert_prisma_row(empty_db, "20240105000000_resolved", sha256(lf), logs="", steps=0)
    insert_prisma_row(empty_db, "20240106000000_retried", sha256(lf), finished=False, logs="ERROR: boom",
                      steps=0, rolled_back=True)
    insert_prisma_row(empty_db, "20240106000000_retried", sha256(lf))
    insert_prisma_row(empty_db, "20231231000000_only_in_db", sha256("x"))
    status = migrate(empty_db, "status", "--migrations-dir", str(directory), "--json")
    assert status.code == 3, status
    states = {m["name"]: m["state"] for m in status.json()["migrations"]}
    assert states == {
        "20231231000000_only_in_db": "only in database",
        "20240101000000_exact": "applied",
        "20240102000000_now_crlf": "applied",
        "20240103000000_now_lf": "applied",
        "20240104000000_unpadded": "applied",
        "20240105000000_resolved": "applied",
        "20240106000000_retried": "applied",
        "20240107000000_new": "pending",
    }
    result = migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--json")
    assert result.code == 0, result
    assert result.json()["applied"] == ["20240107000000_new"]


def test_prisma_row_left_after_a_successful_script_is_closed(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {ONE: "CREATE TABLE one (id int);"})
    empty_db.execute(PRISMA_LEDGER_DDL)
    empty_db.execute("CREATE TABLE one (id int)")  # the script committed, then Prisma was killed
    insert_prisma_row(empty_db, ONE, sha256("CREATE TABLE one (id int);"), finished=False, steps=1)
    status = migrate(empty_db, "status", "--migrations-dir", str(directory), "--json")
    assert status.code == 3 and status.json()["migrations"][0]["state"] == "pending"
    result = migrate(empty_db, "deploy", "--migrations-dir", str(directory))
    assert result.code == 0, result  # not run again (it would fail: the table exists)
    rows = ledger(empty_db)
    assert len(rows) == 1 and rows[0]["finished_at"] is not None


def test_prisma_row_cut_off_before_its_step_stays_failed(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {ONE: "CREATE TABLE one (id int);"})
    empty_db.execute(PRISMA_LEDGER_DDL)
    insert_prisma_row(empty_db, ONE, sha256("CREATE TABLE one (id int);"), finished=False, steps=0)
    assert migrate(empty_db, "status", "--migrations-dir", str(directory)).code == 4
    assert migrate(empty_db, "deploy", "--migrations-dir", str(directory)).code == 4


def test_provider_must_be_postgresql(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {ONE: "SELECT 1;"})
    (directory / "migration_lock.toml").write_text('provider = "mysql"\n')
    result = migrate(empty_db, "status", "--migrations-dir", str(directory))
    assert result.code == 2 and "P3019" in result.stderr
    (directory / "migration_lock.toml").unlink()
    (directory / "20240102000000_empty").mkdir()
    result = migrate(empty_db, "status", "--migrations-dir", str(directory))
    assert result.code == 2 and "P3015" in result.stderr


@given(st.lists(st.sampled_from(["a", "b", " ", ";", "\n", "\r\n", "é", "\t"]), max_size=40).map("".join))
def test_checksum_tolerates_line_endings_like_prisma(text: str) -> None:
    migration = Migration("m", Path("/nonexistent"), text, sha256(text))
    lf = text.replace("\r\n", "\n")
    assert checksum_matches(sha256(text), migration)
    assert checksum_matches(sha256(lf), migration)
    assert checksum_matches(sha256(text.replace("\n", "\r\n")), migration)
    assert not checksum_matches(sha256(text + "x"), migration)
    assert not checksum_matches(sha256(text + "\n"), migration)
