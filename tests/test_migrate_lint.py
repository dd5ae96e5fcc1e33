"""migrate lint: lock-risk rules on real LiteLLM files and on targeted statements."""

from __future__ import annotations

from pathlib import Path

import pytest
from fix_migrate import copy_packaged, migrate, write_migrations
from hypothesis import given
from hypothesis import strategies as st

from litellm_dbctl.migrate import lint
from litellm_dbctl.migrate.source import Migration


def _rules(sql: str, facts: lint.Facts | None = None) -> list[tuple[int, str, str | None]]:
    migration = Migration("20240101000000_t", Path("/x"), sql, "0" * 64)
    return [(f.line, f.rule, f.table) for f in lint.lint_migration(migration, facts)]


@pytest.mark.parametrize(("sql", "expected"), [
    ('CREATE INDEX "i" ON "T" ("a");', [(1, "require-concurrent-index-creation", "T"),
                                         (1, "require-lock-timeout", "T")]),
    ('SET LOCAL lock_timeout = \'5s\';\nCREATE UNIQUE INDEX i ON t (a);', [(2, "require-concurrent-index-creation", "t")]),
    ('CREATE INDEX CONCURRENTLY IF NOT EXISTS "i" ON "T" ("a");', []),
    ('CREATE TABLE "T" (a int);\nCREATE INDEX "i" ON "T" ("a");', []),  # new table: exempt
    ('SELECT 1;\nCREATE INDEX CONCURRENTLY "i" ON "T" ("a");',
     [(2, "ban-concurrent-index-creation-in-transaction", "T")]),
    ('DROP INDEX "i";', [(1, "require-concurrent-index-deletion", None)]),
    ('DROP INDEX CONCURRENTLY "i";', []),
    ('ALTER TABLE "T" ADD COLUMN "c" TEXT NOT NULL DEFAULT \'x\', ADD COLUMN "d" INTEGER DEFAULT 0;',
     [(1, "require-lock-timeout", "T")]),
    ('ALTER TABLE "T" ADD COLUMN "c" TEXT NOT NULL;', [(1, "adding-not-nullable-field", "T"),
                                                      (1, "require-lock-timeout", "T")]),
    ('ALTER TABLE t ADD COLUMN id uuid DEFAULT gen_random_uuid();',
     [(1, "adding-field-with-volatile-default", "t"), (1, "require-lock-timeout", "t")]),
    ("ALTER TABLE t ADD COLUMN note text DEFAULT 'random()';", [(1, "require-lock-timeout", "t")]),
    ('ALTER TABLE t ADD COLUMN n bigserial;', [(1, "adding-field-with-volatile-default", "t"),
                                               (1, "require-lock-timeout", "t")]),
    ('ALTER TABLE "T" ALTER COLUMN "a" SET DATA TYPE BIGINT,\nALTER COLUMN "b" TYPE BIGINT;',
     [(1, "changing-column-type", "T"), (1, "require-lock-timeout", "T")]),
    ('ALTER TABLE "T" ALTER COLUMN "a" SET NOT NULL;', [(1, "setting-not-null", "T"),
                                                       (1, "require-lock-timeout", "T")]),
    ('ALTER TABLE "T" ALTER COLUMN "a" DROP NOT NULL, ALTER COLUMN "b" SET DEFAULT 1;',
     [(1, "require-lock-timeout", "T")]),
    ('ALTER TABLE "T" ADD CONSTRAINT "f" FOREIGN KEY ("a") REFERENCES "U"("id");',
     [(1, "constraint-missing-not-valid", "T"), (1, "require-lock-timeout", "T")]),
    ('ALTER TABLE "T" ADD CONSTRAINT "f" FOREIGN KEY ("a") REFERENCES "U"("id") NOT VALID;\n'
     'ALTER TABLE "T" VALIDATE CONSTRAINT "f";', [(1, "require-lock-timeout", "T")]),
    ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);", [(1, "constraint-missing-not-valid", "t"),
                                                      (1, "require-lock-timeout", "t")]),
    ("ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);", [(1, "disallowed-unique-constraint", "t"),
                                                   (1, "require-lock-timeout", "t")]),
    ("ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX u_idx;", [(1, "require-lock-timeout", "t")]),
    ('ALTER TABLE "T" RENAME COLUMN "a" TO "b";', [(1, "renaming-column", "T"), (1, "require-lock-timeout", "T")]),
    ('ALTER TABLE "T" RENAME TO "U";', [(1, "renaming-table", "T"), (1, "require-lock-timeout", "T")]),
    ('ALTER TABLE "T" RENAME CONSTRAINT "a" TO "b";', [(1, "require-lock-timeout", "T")]),
    ('ALTER TABLE "T" DROP COLUMN "a";', [(1, "ban-drop-column", "T"), (1, "require-lock-timeout", "T")]),
    ('ALTER TABLE "T" DROP CONSTRAINT "a";', [(1, "require-lock-timeout", "T")]),
    ('DROP TABLE "T";', [(1, "ban-drop-table", "T"), (1, "require-lock-timeout", "T")]),
    ("ALTER TABLE t SET TABLESPACE fast;", [(1, "table-rewrite", "t"), (1, "require-lock-timeout", "t")]),
    ("ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2) STORED;",
     [(1, "table-rewrite", "t"), (1, "require-lock-timeout", "t")]),
    ("VACUUM FULL t;", [(1, "table-rewrite", "t")]),
    ('UPDATE "T" SET a = 1;', [(1, "full-table-update", "T")]),
    ('UPDATE "T" SET a = 1 WHERE b IS NULL;', []),
    ("REINDEX INDEX i;", [(1, "require-concurrent-reindex", "i")]),
    ("-- dbctl-lint: ignore require-concurrent-index-creation, require-lock-timeout\nCREATE INDEX i ON t (a);", []),
    ("-- squawk-ignore require-concurrent-index-creation\nCREATE INDEX i ON t (a);", [(2, "require-lock-timeout", "t")]),
    ("DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1) THEN\n    ALTER TABLE \"T\" ADD CONSTRAINT \"f\" FOREIGN KEY (\"a\") "
     "REFERENCES \"U\"(\"id\") ON UPDATE CASCADE;\n  END IF;\nEND $$;",
     [(4, "constraint-missing-not-valid", "T"), (4, "require-lock-timeout", "T")]),
])
def test_rules(sql: str, expected: list[tuple[int, str, str | None]]) -> None:
    assert _rules(sql) == expected


def test_live_facts_name_the_table_of_a_dropped_index_and_volatile_functions() -> None:
    facts = lint.Facts({"i": lint.TableSize("T", 10, 8192)}, frozenset({"my_volatile"}))
    assert _rules('SET lock_timeout = 1000;\nDROP INDEX "i";\nALTER TABLE "T" ADD COLUMN c int DEFAULT my_volatile();',
                  facts) == [(2, "require-concurrent-index-deletion", "T"),
                             (3, "adding-field-with-volatile-default", "T")]


@given(st.sampled_from(['"T"', "t", '"Odd ""name"""', 'public."T"']),
       st.sampled_from(["", "IF EXISTS ", "ONLY ", "IF EXISTS ONLY "]),
       st.sampled_from([" ", "\n", "  \n\t"]))
def test_alter_table_spellings_are_recognised(table: str, prefix: str, space: str) -> None:
    sql = f"ALTER{space}TABLE {prefix}{table}{space}ALTER COLUMN a{space}TYPE bigint;"
    found = _rules(sql)
    assert [rule for _, rule, _ in found] == ["changing-column-type", "require-lock-timeout"]


def test_litellm_files(source) -> None:
    def rules(name: str) -> set[tuple[int, str, str | None]]:
        return {(f.line, f.rule, f.table) for f in lint.lint_migration(source.get(name))}

    assert rules("20250326162113_baseline") == set()  # every table is created in the file
    for migration in source.migrations:
        if not migration.transactional:  # the lone CREATE INDEX CONCURRENTLY files are the safe pattern
            assert lint.lint_migration(migration) == []
    assert ("20261015000000_managed_object_end_user_id", set()) == (
        "20261015000000_managed_object_end_user_id", rules("20261015000000_managed_object_end_user_id"))
    assert (2, "require-concurrent-index-creation", "LiteLLM_SpendLogs") in rules(
        "20250510142544_add_session_id_index_spend_logs")
    assert (25, "constraint-missing-not-valid", "LiteLLM_OrganizationTable") in rules(
        "20250507184818_add_mcp_key_team_permission_mgmt")
    assert {r for _, r, _ in rules("20250509141545_use_big_int_for_daily_spend_tables")} == {
        "changing-column-type", "require-lock-timeout"}


def test_lint_pending_ranks_by_live_size(cli, db, tmp_path: Path) -> None:
    db.execute('INSERT INTO "LiteLLM_BudgetTable" (budget_id, created_by, updated_by) '
               "SELECT 'b' || g, 'x', 'x' FROM generate_series(1, 2000) g")
    db.execute('ANALYZE "LiteLLM_BudgetTable"')
    pending = write_migrations(copy_packaged(tmp_path / "m"), {
        "20991231000000_small": 'ALTER TABLE "LiteLLM_CronJob" ADD COLUMN "x" TEXT NOT NULL;',
        "20991231000001_big": 'CREATE INDEX "b_idx" ON "LiteLLM_BudgetTable" ("created_by");',
        "20991231000002_new": 'CREATE TABLE "N" (a int);\nCREATE INDEX "n_idx" ON "N" ("a");',
    })
    result = cli("migrate", "lint", "--migrations-dir", str(pending), "--json")
    assert result.code == 3, result
    payload = result.json()
    assert payload["linted"] == ["20991231000000_small", "20991231000001_big", "20991231000002_new"]
    found = [(f["migration"], f["rule"]) for f in payload["findings"]]
    assert found[:2] == [("20991231000001_big", "require-concurrent-index-creation"),
                         ("20991231000001_big", "require-lock-timeout")]  # the big table first
    assert ("20991231000000_small", "adding-not-nullable-field") in found
    assert all(m != "20991231000002_new" for m, _ in found)
    assert payload["findings"][0]["estimated_rows"] >= 2000 and payload["findings"][0]["line"] == 1
    clean = cli("migrate", "lint", "--migrations-dir", str(pending), "--exclude", "require-concurrent-index-creation",
                "--exclude", "require-lock-timeout", "--exclude", "adding-not-nullable-field")
    assert clean.code == 0, clean
    assert cli("migrate", "lint", "--exclude", "no-such-rule").code == 2


def test_a_begin_atomic_body_is_linted_as_one_statement(cli, tmp_path: Path) -> None:
    """The UPDATE inside a SQL-standard function body runs when the function is called, not when the
    file is applied: no full-table-update. (The splitter used to end the statement at its `;`.)"""
    pending = write_migrations(copy_packaged(tmp_path / "m"), {"20991231000000_routine": (
        "SET LOCAL lock_timeout = '5s';\n"
        "CREATE FUNCTION reset_spend() RETURNS void LANGUAGE sql\nBEGIN ATOMIC\n"
        '  UPDATE "LiteLLM_TeamTable" SET spend = 0;\n  UPDATE "LiteLLM_UserTable" SET spend = 0;\nEND;\n')})
    result = cli("migrate", "lint", "--migrations-dir", str(pending), "--json")
    assert result.code == 0, result
    assert result.json() == {"linted": ["20991231000000_routine"], "findings": []}


def test_lint_all_on_an_empty_database(empty_db) -> None:
    result = migrate(empty_db, "lint", "--all", "--json")
    assert result.code == 3
    rules = {f["rule"] for f in result.json()["findings"]}
    assert "require-concurrent-index-creation" in rules and "changing-column-type" in rules
    assert all(f["estimated_rows"] is None for f in result.json()["findings"])
