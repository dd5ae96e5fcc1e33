"""migrate diff and migrate baseline: the live catalog against a scratch database migrated for real."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from fix_migrate import ledger, migrate, write_migrations
from helpers import Database, invoke


def _scratch_left(db: Database) -> list[str]:
    return [r["datname"] for r in db.query("SELECT datname FROM pg_database WHERE datname LIKE 'dbctl_scratch_%%'")]


@pytest.mark.slow
def test_diff_is_clean_at_head_and_ignores_the_request_log_indexes(cli, db) -> None:
    assert cli("migrate", "indexes").code == 0
    db.execute('CREATE INDEX "my_copy" ON "LiteLLM_SpendLogs" ("api_key", "startTime")')  # an equivalent copy
    result = cli("migrate", "diff", "--json")
    assert result.code == 0, result
    payload = result.json()
    assert payload["differences"] == [] and payload["notes"] == []
    assert payload["replayed"] > 200
    assert _scratch_left(db) == []


@pytest.mark.slow
@pytest.mark.usefixtures("reuse_scratch_catalogs")
def test_diff_lists_drift(cli, db) -> None:
    db.execute('ALTER TABLE "LiteLLM_UserTable" ADD COLUMN "nickname" text')
    db.execute('ALTER TABLE "LiteLLM_TeamTable" ALTER COLUMN "spend" DROP DEFAULT')
    db.execute('ALTER TABLE "LiteLLM_TeamTable" ALTER COLUMN "max_budget" TYPE numeric')
    db.execute('DROP INDEX "LiteLLM_SpendLogs_startTime_idx"')
    db.execute('DROP TABLE "LiteLLM_CronJob"')
    db.execute('CREATE TABLE "Operator_Notes" (id int PRIMARY KEY)')
    result = cli("migrate", "diff", "--json")
    assert result.code == 3, result
    found = {(d["kind"], d["name"], d["change"]) for d in result.json()["differences"]}
    assert found == {
        ("table", "LiteLLM_CronJob", "missing"),
        ("table", "Operator_Notes", "extra"),  # its column and primary key are not listed again
        ("column", "LiteLLM_UserTable.nickname", "extra"),
        ("column", "LiteLLM_TeamTable.spend", "different"),
        ("column", "LiteLLM_TeamTable.max_budget", "different"),
        ("index", "LiteLLM_SpendLogs_startTime_idx", "missing"),
    }
    detail = {d["name"]: d["detail"] for d in result.json()["differences"]}
    assert detail["LiteLLM_TeamTable.max_budget"] == "type: expected double precision, found numeric"
    table = cli("migrate", "diff")
    assert table.code == 3 and "LiteLLM_UserTable.nickname" in table.stdout and "6 difference(s)" in table.stdout


def test_diff_without_a_ledger_points_at_baseline(empty_db) -> None:
    result = migrate(empty_db, "diff")
    assert result.code == 4 and "baseline" in result.stderr


@pytest.mark.usefixtures("reuse_scratch_catalogs")
def test_baseline_adopts_a_schema_built_without_a_ledger(cli, db, source) -> None:
    db.execute("DROP TABLE _prisma_migrations")
    assert cli("migrate", "status").code == 4  # tables, no ledger
    dry = cli("migrate", "baseline", "--dry-run")
    assert dry.code == 3, dry
    assert db.value("SELECT to_regclass('_prisma_migrations') IS NULL") is True
    result = cli("migrate", "baseline", "--json")
    assert result.code == 0, result
    assert result.json()["matched"] is True and result.json()["recorded"] == source.names()
    rows = ledger(db)
    assert [r["migration_name"] for r in rows] == source.names()
    assert all(r["logs"] == "" and r["finished_at"] == r["started_at"] and r["rolled_back_at"] is None
               for r in rows)
    assert cli("migrate", "status").code == 0
    assert cli("migrate", "deploy", "--json").json()["applied"] == []
    again = cli("migrate", "baseline")
    assert again.code == 4 and "already has a ledger" in again.stderr
    assert _scratch_left(db) == []


@pytest.mark.usefixtures("reuse_scratch_catalogs")
def test_baseline_refuses_a_drifted_schema(cli, db) -> None:
    db.execute("DROP TABLE _prisma_migrations")
    db.execute('ALTER TABLE "LiteLLM_VerificationToken" DROP COLUMN "key_alias"')
    result = cli("migrate", "baseline")
    assert result.code == 4, result
    assert "LiteLLM_VerificationToken.key_alias" in result.stdout and "missing" in result.stdout
    assert "nothing recorded" in result.stderr
    assert db.value("SELECT to_regclass('_prisma_migrations') IS NULL") is True


@pytest.mark.slow
def test_baseline_of_an_older_release_then_upgrade(empty_db, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", {
        "20240101000000_one": "CREATE TABLE one (id int PRIMARY KEY, note text DEFAULT 'x');",
        "20240102000000_two": 'CREATE INDEX "one_note_idx" ON one (note);',
        "20240103000000_three": "ALTER TABLE one ADD COLUMN added timestamptz NOT NULL DEFAULT now();",
    })
    assert migrate(empty_db, "deploy", "--migrations-dir", str(directory), "--to", "20240102000000_two").code == 0
    empty_db.execute("DROP TABLE _prisma_migrations")
    at_head = migrate(empty_db, "baseline", "--migrations-dir", str(directory), "--json")
    assert at_head.code == 4  # the newest migration is not in this schema
    assert [(d["kind"], d["name"], d["change"]) for d in at_head.json()["differences"]] == [
        ("column", "one.added", "missing")]
    result = migrate(empty_db, "baseline", "--migrations-dir", str(directory), "--to", "20240102000000_two")
    assert result.code == 0, result
    status = migrate(empty_db, "status", "--migrations-dir", str(directory), "--json")
    assert status.code == 3 and status.json()["counts"] == {"applied": 2, "pending": 1}
    assert migrate(empty_db, "deploy", "--migrations-dir", str(directory)).code == 0


def test_baseline_of_an_empty_schema_is_refused(empty_db) -> None:
    result = migrate(empty_db, "baseline")
    assert result.code == 2 and "deploy" in result.stderr


@pytest.mark.slow
def test_shadow_url_uses_a_scratch_schema_and_drops_it(cli, db, empty_db) -> None:
    db.execute('ALTER TABLE "LiteLLM_UserTable" ADD COLUMN "nickname" text')
    result = cli("migrate", "diff", "--shadow-url", empty_db.url, "--json")
    assert result.code == 3, result
    assert [d["name"] for d in result.json()["differences"]] == ["LiteLLM_UserTable.nickname"]
    assert "--shadow-url" in result.json()["compared_with"]
    assert empty_db.value("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'dbctl_scratch_%%'") == 0


def _as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{user}@{host}", parts.path, parts.query, ""))


@pytest.fixture
def role_without_createdb(db: Database):
    name = f"dbctl_nocreate_{uuid.uuid4().hex[:8]}"
    db.execute(f'CREATE ROLE "{name}" LOGIN NOCREATEDB')
    db.execute(f'GRANT SELECT ON _prisma_migrations TO "{name}"')
    yield name
    db.execute(f'DROP OWNED BY "{name}"')
    db.execute(f'DROP ROLE "{name}"')


@pytest.mark.slow
def test_without_createdb_the_embedded_server_hosts_the_scratch_database(
        db, role_without_createdb: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The test server's own embedded directory when the suite runs on one, else a private one.
    shared = os.environ.get("DBCTL_TEST_EMBEDDED_DIR") if not os.environ.get("DBCTL_TEST_DATABASE_URL") else None
    embedded_dir = Path(shared or f"/tmp/dbctl-emb-migrate-fallback-{os.getuid()}")
    monkeypatch.setenv("DBCTL_EMBEDDED_DIR", str(embedded_dir))
    try:
        result = invoke(["--database-url", _as_user(db.url, role_without_createdb), "migrate", "diff", "--json"])
        assert result.code == 0, result
        assert "embedded server" in result.json()["compared_with"]
    finally:
        if shared is None:
            from litellm_dbctl.db import embedded

            embedded.stop(embedded_dir)


def test_snapshot_leaves_out_what_partitioning_spend_logs_changes(db) -> None:
    from litellm_dbctl.db import config, database
    from litellm_dbctl.migrate import schema

    with database.connect(config.parse(db.url, "test"), command="test", read_only=True) as conn:
        before = schema.snapshot(conn)
    db.execute('ALTER TABLE "LiteLLM_SpendLogs" RENAME TO "LiteLLM_SpendLogs_old"')
    db.execute('ALTER TABLE "LiteLLM_SpendLogs_old" RENAME CONSTRAINT "LiteLLM_SpendLogs_pkey" TO "old_pkey"')
    db.execute('CREATE TABLE "LiteLLM_SpendLogs" (LIKE "LiteLLM_SpendLogs_old" INCLUDING DEFAULTS, '
               'CONSTRAINT "LiteLLM_SpendLogs_pkey" PRIMARY KEY ("request_id", "startTime")) '
               'PARTITION BY RANGE ("startTime")')
    db.execute('CREATE TABLE "LiteLLM_SpendLogs_p20240101" PARTITION OF "LiteLLM_SpendLogs" '
               "FOR VALUES FROM ('2024-01-01') TO ('2024-01-02')")
    with database.connect(config.parse(db.url, "test"), command="test", read_only=True) as conn:
        after = schema.snapshot(conn)
    names = {name for _, name in after.objects}
    assert "LiteLLM_SpendLogs_p20240101" not in names
    assert not any(name.startswith("LiteLLM_SpendLogs_p20240101") for name in names)
    assert ("constraint", "LiteLLM_SpendLogs.LiteLLM_SpendLogs_pkey") not in after.objects
    spend_columns = {k: v for k, v in before.objects.items() if k[0] == "column" and v["table"] == "LiteLLM_SpendLogs"}
    assert spend_columns and all(after.objects[k] == v for k, v in spend_columns.items())
    assert after.objects[("table", "LiteLLM_SpendLogs")] == before.objects[("table", "LiteLLM_SpendLogs")]
