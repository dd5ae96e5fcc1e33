"""The query registry: every file parses, names only real tables and columns, and PREPAREs on a
schema migrated to exactly its `requires` migration; bad definitions and stale schemas are refused."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from helpers import invoke

from litellm_dbctl.common.errors import ExitCode, IntegrityError, QueryDefinitionError, SchemaTooOld
from litellm_dbctl.db import config, querycheck, sqlfiles
from litellm_dbctl.migrate.deploy import deploy


def test_every_query_file_parses_with_a_known_requires(source) -> None:
    assert sqlfiles.load_all()[1] == {}
    names = set(source.names())
    queries = sqlfiles.registry()
    assert queries, "no query files found"
    for query in queries.values():
        assert query.requires is None or query.requires in names, f"{query.name}: unknown migration {query.requires}"
        assert query.description, f"{query.name}: no description"


@pytest.mark.slow
def test_every_query_checks_against_the_schema_of_its_requires(empty_db, source) -> None:
    """Migrate one database step by step; at each `requires` point check exactly the queries pinned there."""
    by_requirement: dict[str | None, list[sqlfiles.Query]] = {}
    for query in sqlfiles.registry().values():
        by_requirement.setdefault(query.requires, []).append(query)
    target = config.parse(empty_db.url, "test")
    with psycopg.connect(empty_db.url, autocommit=True) as conn:
        sqlfiles.run(conn, "ledger/create")
    failures = []
    for requirement in sorted(by_requirement, key=lambda r: r or ""):
        if requirement is not None:
            deploy(target, source.up_to(requirement))
        with psycopg.connect(empty_db.url, autocommit=True) as conn:
            failures += querycheck.check(conn, by_requirement[requirement])
    assert failures == []


def test_check_finds_unknown_tables_and_columns() -> None:
    known = {"t": {"a", "b"}}
    assert querycheck.parse_and_resolve("SELECT x.a FROM t x", known) == []
    assert querycheck.parse_and_resolve("SELECT x.c FROM t x", known) == [("catalog", "unknown column t.c")]
    assert querycheck.parse_and_resolve("SELECT 1 FROM nope", known) == [("catalog", "unknown table 'nope'")]
    assert querycheck.parse_and_resolve("WITH w AS (SELECT a FROM t) SELECT w.a FROM w", known) == []
    assert querycheck.parse_and_resolve("SELECT 1 FROM WHERE", known)[0][0] == "parse"
    assert querycheck.parse_and_resolve("SELECT x.xmin FROM t x FOR UPDATE OF x", known) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- mode: read\n-- returns: rows\n-- d\nSELECT 1", "missing header '-- requires"),
        ("-- requires: none\n-- mode: maybe\n-- returns: rows\n-- d\nSELECT 1", "mode must be"),
        ("-- requires: none\n-- mode: read\n-- returns: many\n-- d\nSELECT 1", "returns must be"),
        ("-- requires: latest\n-- mode: read\n-- returns: rows\n-- d\nSELECT 1", "requires must be"),
        ("-- requires: none\n-- mode: read\n-- returns: rows\n-- flavour: x\n-- d\nSELECT 1", "unknown header"),
        ("-- requires: none\n-- mode: read\n-- returns: rows\n-- d\n", "no SQL"),
        ("-- requires: none\n-- mode: read\n-- returns: rows\n-- identifiers: t\n-- d\nSELECT 1", "identifiers"),
        ("-- requires: none\n-- mode: read\n-- returns: rows\n-- d\nSELECT 1 WHERE a LIKE 'x%'", "stray %"),
        ("-- requires: none\n-- mode: read\n-- returns: rows\n-- d\nSELECT %(a)d", "stray %"),
        ("-- requires: none\n-- mode: read\n-- returns: rows\n-- d\nSELECT $1", "positional"),
        ("-- requires: none\n-- mode: read\n-- returns: rows\n-- variant: t\n-- d\nSELECT 1", "needs an identifiers"),
        ("-- requires: none\n-- mode: read\n-- returns: rows\n-- identifiers: t\n-- variant: a, b\n-- d\n"
         "SELECT 1 FROM {t}", "one table or column for each of t"),
        ("-- requires: none\n-- mode: read\n-- returns: rows\n-- identifiers: t\n-- variant: a b\n-- d\n"
         "SELECT 1 FROM {t}", "one table or column"),
        ("-- requires: none\n-- mode: read\n-- returns: rows\n-- identifiers: t\n-- variant: a\n-- variant: a\n"
         "-- d\nSELECT 1 FROM {t}", "listed twice"),
        ("-- requires: none\n-- mode: read\n-- returns: rows\n-- identifiers: t\n-- variant: a\n-- d\n"
         "SELECT '{}' FROM {t}", "written doubled"),
    ],
)
def test_malformed_headers_are_rejected(text: str, message: str) -> None:
    with pytest.raises(QueryDefinitionError, match=message):
        sqlfiles.parse(text, "x/y", Path("x/y.sql"))


def test_a_doubled_brace_is_a_literal_one_in_a_statement_with_identifiers(db, tmp_path) -> None:
    query = sqlfiles.parse("-- requires: none\n-- mode: read\n-- returns: value\n-- identifiers: t\n-- variant: ledger\n"
                           "-- d\nWITH ledger (v) AS (SELECT '{{}}/{{x}}') SELECT v FROM {t}", "t/b", tmp_path / "b.sql")
    assert query.identifiers == ("t",)
    assert sqlfiles.bind(query.sql, {"t": "ledger"}) == "WITH ledger (v) AS (SELECT '{}/{x}') SELECT v FROM \"ledger\""
    with psycopg.connect(db.url, autocommit=True) as conn:
        assert conn.execute(sqlfiles._compose(query, {"t": "ledger"})).fetchone() == ("{}/{x}",)


def test_parameters_are_checked_before_anything_is_sent(db) -> None:
    with psycopg.connect(db.url, autocommit=True) as conn:
        with pytest.raises(QueryDefinitionError, match="missing parameter"):
            sqlfiles.run(conn, "locks/try_session", {})
        with pytest.raises(QueryDefinitionError, match="unknown parameter"):
            sqlfiles.run(conn, "locks/try_session", {"key": 1, "other": 2})
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_a_statement_needing_a_missing_migration_is_refused_with_exit_6(empty_db) -> None:
    with psycopg.connect(empty_db.url, autocommit=True) as conn, pytest.raises(SchemaTooOld) as info:
        sqlfiles.run(conn, "db/spend_log_indexes")
    assert "20250326162113_baseline" in info.value.message
    assert info.value.exit_code == ExitCode.SCHEMA_TOO_OLD == 6


def test_writes_are_refused_while_a_migration_is_failed(db, tmp_path) -> None:
    write = sqlfiles.parse("-- requires: 20250326162113_baseline\n-- mode: write\n-- returns: none\n-- d\n"
                           'UPDATE "LiteLLM_UserTable" SET spend = 0', "t/w", tmp_path / "w.sql")
    read = sqlfiles.parse("-- requires: 20250326162113_baseline\n-- mode: read\n-- returns: rows\n-- d\n"
                          'SELECT 1 FROM "LiteLLM_UserTable"', "t/r", tmp_path / "r.sql")
    db.execute("INSERT INTO _prisma_migrations (id, checksum, migration_name, logs) VALUES ('f', 'c', 'x_failed', 'e')")
    with psycopg.connect(db.url, autocommit=True) as conn:
        sqlfiles.check_requires(conn, read)  # reads still work, to diagnose
        with pytest.raises(IntegrityError):
            sqlfiles.check_requires(conn, write)


def test_queries_list_and_show_through_the_cli() -> None:
    listed = invoke(["queries", "list", "--json"])
    assert listed.code == 0
    names = {q["name"] for q in listed.json()}
    assert {"ledger/rows", "locks/try_session"} <= names
    shown = invoke(["queries", "show", "ledger/rows", "--json"]).json()
    assert shown["requires"] is None and "_prisma_migrations" in shown["sql"]
    missing = invoke(["queries", "show", "ledger/row"])
    assert missing.code == ExitCode.USAGE and "ledger/rows" in missing.stderr


@pytest.mark.slow
def test_queries_check_passes_on_head_and_fails_with_exit_4_on_a_broken_schema(cli, db) -> None:
    assert cli("queries", "check").code == 0
    db.execute("ALTER TABLE _prisma_migrations DROP COLUMN logs")
    result = cli("queries", "check", "--json")
    assert result.code == ExitCode.INTEGRITY
    failing = {f["query"] for f in result.json()["findings"]}
    assert "ledger/rows" in failing and "ledger/names" not in failing


def test_queries_check_reports_a_malformed_file_with_exit_4(cli, tmp_path, monkeypatch) -> None:
    import shutil

    copy = tmp_path / "queries"
    shutil.copytree(sqlfiles.queries_dir(), copy)
    (copy / "ledger" / "broken.sql").write_text("-- requires: none\n-- mode: read\n-- d\nSELECT 1\n")
    monkeypatch.setattr(sqlfiles, "queries_dir", lambda: copy)
    sqlfiles.load_all.cache_clear()
    try:
        result = cli("queries", "check", "--json")
    finally:
        sqlfiles.load_all.cache_clear()
        sqlfiles.get.cache_clear()
    assert result.code == ExitCode.INTEGRITY
    assert [f["stage"] for f in result.json()["findings"]] == ["header"]
    assert "broken.sql" in result.json()["findings"][0]["problem"]


@pytest.fixture
def scratch_queries(tmp_path, monkeypatch):
    """A queries/ directory holding only dbctl's ledger and db statements (runs and checks read them), in
    place of dbctl's own, for loader tests."""
    import shutil

    root = tmp_path / "queries"
    for area in ("ledger", "db"):
        shutil.copytree(sqlfiles.queries_dir() / area, root / area)
    monkeypatch.setattr(sqlfiles, "queries_dir", lambda: root)
    sqlfiles.get.cache_clear()
    sqlfiles.load_all.cache_clear()
    yield root
    sqlfiles.get.cache_clear()
    sqlfiles.load_all.cache_clear()


def _write(root: Path, name: str, text: str) -> None:
    path = root / f"{name}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


FRAGMENT = ("-- requires: 20250326162113_baseline\n-- mode: fragment\n-- The filter.\n"
            "  AND spend > %(least)s\n  AND user_id <> ''\n")


def test_a_fragment_is_included_at_the_include_lines_indent_with_its_parameters(scratch_queries, db) -> None:
    _write(scratch_queries, "f/filter", FRAGMENT)
    _write(scratch_queries, "q/users", "-- requires: 20250326162113_baseline\n-- mode: read\n-- returns: rows\n-- d\n"
                                        'SELECT user_id FROM "LiteLLM_UserTable"\nWHERE true\n    -- include: f/filter\n'
                                        "ORDER BY user_id")
    query = sqlfiles.get("q/users")
    assert "WHERE true\n      AND spend > %(least)s\n      AND user_id <> ''\nORDER BY" in query.sql
    assert query.params == ("least",)
    db.execute("""INSERT INTO "LiteLLM_UserTable" (user_id, spend) VALUES ('a', 1), ('b', 5), ('', 9)""")
    with psycopg.connect(db.url, autocommit=True) as conn:
        assert [r["user_id"] for r in sqlfiles.run(conn, "q/users", {"least": 2})] == ["b"]
        with pytest.raises(QueryDefinitionError, match="is a fragment"):
            sqlfiles.run(conn, "f/filter", {"least": 2})
        assert querycheck.check(conn, [sqlfiles.get("f/filter"), query]) == []


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("-- requires: none\n-- mode: read\n-- returns: rows\n-- d\nSELECT 1\n-- include: f/filter", "requires"),
        ("-- requires: 20250326162113_baseline\n-- mode: read\n-- returns: rows\n-- d\nSELECT 1\n-- include: f/nope",
         "no query named 'f/nope'"),
        ("-- requires: 20250326162113_baseline\n-- mode: read\n-- returns: rows\n-- d\nSELECT 1\n-- include: q/plain",
         "not a fragment"),
        ("-- requires: 20250326162113_baseline\n-- mode: fragment\n-- d\nAND true\n-- include: f/filter",
         "includes no other fragment"),
    ],
)
def test_bad_includes_are_rejected_naming_the_file(scratch_queries, statement: str, message: str) -> None:
    _write(scratch_queries, "f/filter", FRAGMENT)
    _write(scratch_queries, "q/plain", "-- requires: none\n-- mode: read\n-- returns: rows\n-- d\nSELECT 1")
    with pytest.raises(QueryDefinitionError, match=message) as info:
        sqlfiles.parse(statement, "q/bad", scratch_queries / "q" / "bad.sql")
    assert "bad.sql" in str(info.value) or "f/nope" in str(info.value)


def test_lock_and_copy_out_take_only_read_statements_that_return_rows(db) -> None:
    with psycopg.connect(db.url, autocommit=True) as conn:
        with pytest.raises(QueryDefinitionError, match="only a read query"):
            sqlfiles.run(conn, "budget/reset", {"durations": [], "next_reset_at": [], "now": None, "rollover": False},
                         identifiers={"table": "LiteLLM_UserTable"}, lock=True)
        with pytest.raises(QueryDefinitionError, match="copy_out needs a read query"), \
                sqlfiles.copy_out(conn, "budget/reset", {}, "csv"):
            pass
        with pytest.raises(QueryDefinitionError, match="format must be one of"), \
                sqlfiles.copy_out(conn, "spend/export_logs", {}, "xml"):
            pass


def test_a_locking_read_holds_its_rows_until_the_transaction_ends(db) -> None:
    db.execute("""INSERT INTO "LiteLLM_UserTable" (user_id, spend, budget_duration, budget_reset_at)
                  VALUES ('a', 1, '1d', '2020-01-01'), ('b', 2, '1d', '2020-01-01')""")
    with psycopg.connect(db.url) as holder, psycopg.connect(db.url, autocommit=True) as other:
        rows = sqlfiles.run(holder, "budget/due_users", {"now": "2030-01-01"}, row_type=tuple, lock=True)
        assert [(r.id, r.spend) for r in rows] == [("a", 1.0), ("b", 2.0)]
        other.execute("SET lock_timeout = '200ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute("""UPDATE "LiteLLM_UserTable" SET spend = spend + 1 WHERE user_id = 'b'""")
        holder.rollback()
        other.execute("""UPDATE "LiteLLM_UserTable" SET spend = spend + 1 WHERE user_id = 'b'""")


VARIANTS = ("-- requires: 20250326162113_baseline\n-- mode: read\n-- returns: rows\n-- identifiers: table, id\n"
            "-- variant: LiteLLM_UserTable, user_id\n-- variant: LiteLLM_TeamTable, team_id\n"
            "-- The ids of users or teams.\nSELECT {id} AS id FROM {table} ORDER BY {id}")


def test_variant_lines_list_the_only_identifiers_a_statement_runs_with(scratch_queries, db) -> None:
    _write(scratch_queries, "q/ids", VARIANTS)
    query = sqlfiles.get("q/ids")
    assert query.identifiers == ("table", "id")
    assert query.variants == (("LiteLLM_UserTable", "user_id"), ("LiteLLM_TeamTable", "team_id"))
    assert sqlfiles.bindings(query) == [{"table": "LiteLLM_UserTable", "id": "user_id"},
                                        {"table": "LiteLLM_TeamTable", "id": "team_id"}]
    db.execute("""INSERT INTO "LiteLLM_TeamTable" (team_id) VALUES ('t1')""")
    with psycopg.connect(db.url, autocommit=True) as conn:
        rows = sqlfiles.run(conn, "q/ids", identifiers={"table": "LiteLLM_TeamTable", "id": "team_id"})
        assert rows == [{"id": "t1"}]
        for other in ({"table": "LiteLLM_SpendLogs", "id": "request_id"},  # a real table, but not listed
                      {"table": "LiteLLM_TeamTable", "id": "user_id"}):  # listed names, not listed together
            with pytest.raises(QueryDefinitionError, match="not one of its variants"):
                sqlfiles.run(conn, "q/ids", identifiers=other)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # refused before sending


def test_queries_check_checks_every_variant(scratch_queries, db) -> None:
    """A variant naming a column its table lacks is found, and named; the others pass."""
    _write(scratch_queries, "q/ids", VARIANTS.replace("LiteLLM_TeamTable, team_id", "LiteLLM_TeamTable, user_id"))
    with psycopg.connect(db.url, autocommit=True) as conn:
        findings = querycheck.check(conn, [sqlfiles.get("q/ids")])
    assert [(f.query, f.stage) for f in findings] == [("q/ids", "prepare")]
    assert "user_id" in findings[0].problem and "variant LiteLLM_TeamTable, user_id" in findings[0].problem


def test_every_table_family_lists_its_variants() -> None:
    """Statements on several tables name them in the file: only names dbctl makes itself (a scratch
    schema or database, an index, a spend-log partition and the table owner's role) are identifiers
    without variants."""
    free = {name: query.identifiers for name, query in sqlfiles.registry().items()
            if query.identifiers and not query.variants}
    assert all(name.startswith(("indexes/", "ledger/", "migrate/", "logs/")) for name in free), free
