"""migrate deploy/status on LiteLLM's real migrations and on small test directories."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from fix_migrate import copy_packaged, ledger, migrate, sha256, with_params, write_migrations
from helpers import ROOT, invoke

from litellm_dbctl.migrate.locks import PRISMA_LOCK_KEY
from litellm_dbctl.migrate.source import load_source


def test_template_is_at_head_and_status_is_clean(cli, source) -> None:
    result = cli("migrate", "status", "--json")
    assert result.code == 0, result
    payload = result.json()
    assert payload["ledger_exists"] is True and payload["needs_baseline"] is False
    assert {m["state"] for m in payload["migrations"]} == {"applied"}
    assert payload["counts"] == {"applied": len(source.migrations)}
    assert len(payload["migrations"]) == len(source.migrations)


def test_second_deploy_does_nothing(cli, db) -> None:
    before = db.value("SELECT count(*) FROM _prisma_migrations")
    result = cli("migrate", "deploy")
    assert result.code == 0, result
    assert "no pending migrations" in result.stdout
    assert db.value("SELECT count(*) FROM _prisma_migrations") == before


@pytest.mark.slow
def test_full_history_on_an_empty_database_through_the_cli(empty_db, source) -> None:
    result = migrate(empty_db, "deploy", "--json")
    assert result.code == 0, result
    assert result.json()["applied"] == source.names()
    rows = ledger(empty_db)
    assert len(rows) == len(source.migrations)
    for row in rows:  # the success lifecycle exactly as Prisma leaves it
        migration = source.get(row["migration_name"])
        assert row["checksum"] == sha256(migration.path.read_bytes())
        assert uuid.UUID(row["id"]).version == 4
        assert row["applied_steps_count"] == 1 and row["logs"] is None and row["rolled_back_at"] is None
        assert row["finished_at"] >= row["started_at"]
    # What Prisma's deploy and LiteLLM's start-up call applied: a finished, not rolled back row for
    # every directory, and no unfinished row at all.
    assert empty_db.value("SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NULL") == 0
    applied = {r["migration_name"] for r in empty_db.query(
        "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL")}
    assert applied == set(source.names())
    # LiteLLM's own recovery code reads each row as finished, with the exact SHA-256 of the file.
    from litellm_proxy_extras.migration_recovery import _migration_records

    with psycopg.connect(empty_db.url, autocommit=True) as conn:
        for migration in source.migrations[:: max(len(source.migrations) // 20, 1)]:
            records = _migration_records(conn, "public", migration.path)
            assert len(records) == 1 and records[0].finished, migration.name
            assert records[0].confirms_completion(migration.path.read_bytes()), migration.name
    status = migrate(empty_db, "status")
    assert status.code == 0, status
    again = migrate(empty_db, "deploy")
    assert again.code == 0 and "no pending migrations" in again.stdout


@pytest.mark.slow
def test_upgrade_from_an_older_release(empty_db, tmp_path: Path, source) -> None:
    # The newest 12 include the lone CREATE INDEX CONCURRENTLY files and the SET LOCAL lock_timeout ones.
    older = copy_packaged(tmp_path / "older", drop_newest=12)
    first = migrate(empty_db, "deploy", "--migrations-dir", str(older))
    assert first.code == 0, first
    status = migrate(empty_db, "status", "--json")
    assert status.code == 3, status
    assert [m["name"] for m in status.json()["migrations"] if m["state"] == "pending"] == source.names()[-12:]
    dry = migrate(empty_db, "deploy", "--dry-run")
    assert dry.code == 3 and dry.stdout.split() == source.names()[-12:]
    upgrade = migrate(empty_db, "deploy", "--json")
    assert upgrade.code == 0, upgrade
    assert upgrade.json()["applied"] == source.names()[-12:]
    assert migrate(empty_db, "status").code == 0
    concurrent = [m.name for m in source.migrations[-12:] if not m.transactional]
    assert concurrent, "the newest migrations include a lone CREATE INDEX CONCURRENTLY"
    assert empty_db.value("SELECT count(*) FROM pg_index WHERE NOT indisvalid") == 0


def test_dry_run_lists_and_changes_nothing(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {
        "20240101000000_one": "CREATE TABLE one (id int);",
        "20240102000000_two": "CREATE TABLE two (id int);",
    })
    result = migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--dry-run", "--sql")
    assert result.code == 3, result
    assert "20240101000000_one" in result.stdout and "CREATE TABLE two (id int);" in result.stdout
    assert empty_db.value("SELECT to_regclass('_prisma_migrations') IS NULL") is True
    as_json = migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--dry-run", "--json")
    assert as_json.json() == {"dry_run": True, "source": str(directory),
                              "pending": ["20240101000000_one", "20240102000000_two"]}


def test_deploy_to_stops_after_the_named_migration(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {
        "20240101000000_one": "CREATE TABLE one (id int);",
        "20240102000000_two": "CREATE TABLE two (id int);",
        "20240103000000_three": "CREATE TABLE three (id int);",
    })
    result = migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--to", "20240102000000_two")
    assert result.code == 0, result
    assert [r["migration_name"] for r in ledger(empty_db)] == ["20240101000000_one", "20240102000000_two"]
    unknown = migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--to", "20240109000000_nope")
    assert unknown.code == 2 and "P3017" in unknown.stderr


def test_same_timestamp_directories_run_in_full_name_order(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {
        "20240101000000_b_second": "INSERT INTO log VALUES ('b');",
        "20240101000000_a_first": "CREATE TABLE log (step text); INSERT INTO log VALUES ('a');",
    })
    assert migrate(empty_db, "deploy", "--migrations-dir", str(directory)).code == 0
    assert [r["step"] for r in empty_db.query("SELECT step FROM log")] == ["a", "b"]


def test_tables_without_a_ledger_need_a_baseline(empty_db, tmp_path: Path) -> None:
    empty_db.execute("CREATE TABLE existing (id int)")
    directory = write_migrations(tmp_path / "m", {"20240101000000_one": "CREATE TABLE one (id int);"})
    status = migrate(empty_db, "status", "--migrations-dir", str(directory), "--json")
    assert status.code == 4 and status.json()["needs_baseline"] is True
    result = migrate(empty_db, "deploy", "--migrations-dir", str(directory))
    assert result.code == 4 and "P3005" in result.stderr and "baseline" in result.stderr
    assert empty_db.value("SELECT to_regclass('one') IS NULL") is True


def test_prisma_schema_parameter_creates_the_schema(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {"20240101000000_one": "CREATE TABLE one (id int);"})
    url = with_params(empty_db.url, "schema=litellm")
    result = invoke(["--database-url", url, "migrate", "deploy", "--migrations-dir", str(directory)])
    assert result.code == 0, result
    assert empty_db.value("SELECT count(*) FROM litellm._prisma_migrations") == 1
    assert empty_db.value("SELECT to_regclass('litellm.one') IS NOT NULL") is True
    assert invoke(["--database-url", url, "migrate", "status", "--migrations-dir", str(directory)]).code == 0


def test_lock_held_elsewhere_gives_exit_5(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {"20240101000000_one": "CREATE TABLE one (id int);"})
    with empty_db.connect() as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (PRISMA_LOCK_KEY,))
        result = migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--lock-timeout", "0.3")
    assert result.code == 5, result
    assert str(PRISMA_LOCK_KEY) in result.stderr
    assert empty_db.value("SELECT to_regclass('one') IS NULL") is True


def test_statement_lock_timeout_is_retried(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {
        "20240101000000_one": "CREATE TABLE busy (id int);",
        "20240102000000_two": "ALTER TABLE busy ADD COLUMN note text;",
    })
    assert migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--to", "20240101000000_one").code == 0
    holder = psycopg.connect(empty_db.url)
    holder.execute("LOCK TABLE busy IN ACCESS SHARE MODE")
    release = threading.Timer(0.6, holder.rollback)
    release.start()
    try:
        result = migrate(empty_db, "-v", "deploy", "--migrations-dir", str(directory),
                         "--statement-lock-timeout", "100ms")
    finally:
        release.join()
        holder.close()
    assert result.code == 0, result
    assert "retrying" in result.stderr
    assert empty_db.value("SELECT count(*) FROM _prisma_migrations WHERE migration_name = '20240102000000_two'") == 1


@pytest.mark.slow  # waits out --lock-timeout on a held lock (~1.5 s)
def test_persistent_lock_timeout_rolls_back_and_exits_5(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {
        "20240101000000_one": "CREATE TABLE busy (id int);",
        "20240102000000_two": "ALTER TABLE busy ADD COLUMN note text;",
    })
    assert migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--to", "20240101000000_one").code == 0
    with psycopg.connect(empty_db.url) as holder:
        holder.execute("LOCK TABLE busy IN ACCESS SHARE MODE")
        result = migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--statement-lock-timeout", "50ms")
        holder.rollback()
    assert result.code == 5, result
    row = empty_db.query("SELECT * FROM _prisma_migrations WHERE migration_name = '20240102000000_two'")[0]
    assert row["finished_at"] is None and row["rolled_back_at"] is not None and "lock" in row["logs"]
    status = migrate(empty_db, "status", "--migrations-dir", str(directory), "--json")
    assert status.code == 3  # rolled back: deploy applies it again, nothing blocks
    assert migrate(empty_db, "deploy", "--migrations-dir", str(directory)).code == 0


def test_statement_timeout_rolls_back_and_the_next_deploy_retries(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {
        "20240101000000_one": "CREATE TABLE one (id int);",
        "20240102000000_slow": "CREATE TABLE slow (id int); SELECT pg_sleep(0.5);",
    })
    result = migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--statement-timeout", "100ms")
    assert result.code == 1, result
    assert "57014" in result.stderr and "recorded rolled back" in result.stderr, result.stderr
    assert "partial" not in result.stderr
    assert empty_db.value("SELECT to_regclass('slow') IS NULL") is True  # nothing of it stayed
    row = empty_db.query("SELECT * FROM _prisma_migrations WHERE migration_name = '20240102000000_slow'")[0]
    assert row["finished_at"] is None and row["rolled_back_at"] is not None and "57014" in row["logs"]
    status = migrate(empty_db, "status", "--migrations-dir", str(directory), "--json")
    assert status.code == 3, status  # rolled back, as Prisma reads it: pending, nothing blocks
    result = migrate(empty_db, "deploy", "--migrations-dir", str(directory))
    assert result.code == 0, result
    assert empty_db.value("SELECT to_regclass('slow') IS NOT NULL") is True
    assert migrate(empty_db, "status", "--migrations-dir", str(directory)).code == 0


@pytest.mark.slow  # holds a lock past the migration's own lock_timeout (~2 s)
def test_lock_timeout_in_the_file_rolls_back_and_the_next_deploy_retries(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {
        "20240101000000_one": "CREATE TABLE busy (id int);",
        "20240102000000_two": "SET LOCAL lock_timeout = '50ms';\nALTER TABLE busy ADD COLUMN note text;",
    })
    assert migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--to", "20240101000000_one").code == 0
    with psycopg.connect(empty_db.url) as holder:
        holder.execute("LOCK TABLE busy IN ACCESS SHARE MODE")
        result = migrate(empty_db, "deploy", "--migrations-dir", str(directory))
        holder.rollback()
    assert result.code == 5, result
    assert "runs it again" in result.stderr and "partial" not in result.stderr
    assert migrate(empty_db, "status", "--migrations-dir", str(directory)).code == 3
    assert migrate(empty_db, "deploy", "--migrations-dir", str(directory)).code == 0
    assert empty_db.value("SELECT count(*) FROM information_schema.columns WHERE column_name = 'note'") == 1


def _spawn_deploy(url: str, directory: Path, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DIRECT_URL", "DBCTL_DATABASE_URL")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "litellm_dbctl", "--database-url", url, "--json", "migrate", "deploy",
         "--migrations-dir", str(directory), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_two_deploys_at_once(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {
        "20240101000000_one": "CREATE TABLE one (id int); SELECT pg_sleep(0.5);",
        "20240102000000_two": "CREATE TABLE two (id int);",
    })
    first = _spawn_deploy(empty_db.url, directory)
    second = _spawn_deploy(empty_db.url, directory)
    outputs = [p.communicate(timeout=60) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    import json

    applied = sorted(len(json.loads(out)["applied"]) for out, _ in outputs)
    assert applied == [0, 2]  # one applied both, the other waited and found nothing to do
    assert [r["migration_name"] for r in ledger(empty_db)] == ["20240101000000_one", "20240102000000_two"]


def _wait_for(db, query: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = db.query(query)
        if rows:
            return rows[0]
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for: {query}")


@pytest.mark.slow
def test_kill_9_during_a_transactional_migration(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {
        "20240101000000_one": "CREATE TABLE one (id int);",
        "20240102000000_slow": "CREATE TABLE slow (id int); SELECT pg_sleep(1);",
        "20240103000000_three": "CREATE TABLE three (id int);",
    })
    process = _spawn_deploy(empty_db.url, directory)
    _wait_for(empty_db, "SELECT pid FROM pg_stat_activity WHERE query LIKE '%%pg_sleep(1)%%' "
                        "AND application_name = 'dbctl migrate deploy'")
    process.send_signal(signal.SIGKILL)
    process.wait()
    result = migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--lock-timeout", "30")
    assert result.code == 0, result
    rows = ledger(empty_db)
    assert [r["migration_name"] for r in rows] == ["20240101000000_one", "20240102000000_slow", "20240103000000_three"]
    assert all(r["finished_at"] is not None and r["rolled_back_at"] is None for r in rows)


@pytest.mark.slow
def test_interrupted_concurrent_index_build_is_resumed(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {
        "20240101000000_table": (
            "CREATE FUNCTION slow_key(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1 FROM pg_sleep(0.2)';\n"
            "CREATE TABLE items (id int);\nINSERT INTO items SELECT generate_series(1, 20);"),
        "20240102000000_index": 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "items_slow_idx" ON items (slow_key(id));',
    })
    assert not load_source(directory).get("20240102000000_index").transactional
    process = _spawn_deploy(empty_db.url, directory)
    backend = _wait_for(empty_db, "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%%'")
    process.send_signal(signal.SIGKILL)  # the pod dies: client and session both go
    process.wait()
    empty_db.execute("SELECT pg_terminate_backend(%s)", (backend["pid"],))
    _wait_for(empty_db, "SELECT 1 FROM pg_class WHERE relname = 'items_slow_idx' AND NOT EXISTS "
                        f"(SELECT 1 FROM pg_stat_activity WHERE pid = {backend['pid']})")
    assert empty_db.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_slow_idx'::regclass") is False
    status = migrate(empty_db, "status", "--migrations-dir", str(directory), "--json")
    assert status.code == 3, status  # resumable, not failed
    result = migrate(empty_db, "deploy", "--migrations-dir", str(directory))
    assert result.code == 0, result
    assert empty_db.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_slow_idx'::regclass") is True
    rows = [r for r in ledger(empty_db) if r["migration_name"] == "20240102000000_index"]
    assert [(r["finished_at"] is None, r["rolled_back_at"] is None) for r in rows] == [(True, False), (False, True)]


def test_deploy_works_over_a_pgbouncer_style_url(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {"20240101000000_one": "CREATE TABLE one (id int);"})
    url = with_params(empty_db.url, "pgbouncer=true&connection_limit=1")
    result = invoke(["--database-url", url, "migrate", "deploy", "--migrations-dir", str(directory)])
    assert result.code == 0, result


def test_connection_lost_during_a_transactional_migration(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {
        "20240101000000_slow": "CREATE TABLE slow (id int); SELECT pg_sleep(5);",
    })
    process = _spawn_deploy(empty_db.url, directory)
    backend = _wait_for(empty_db, "SELECT pid FROM pg_stat_activity WHERE query LIKE '%%pg_sleep(5)%%' "
                                  "AND application_name = 'dbctl migrate deploy'")
    empty_db.execute("SELECT pg_terminate_backend(%s)", (backend["pid"],))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1 and "connection was lost" in stderr and "run deploy again" in stderr
    assert ledger(empty_db) == [] and empty_db.value("SELECT to_regclass('slow') IS NULL") is True
