"""migrate indexes: the request-log indexes LiteLLM builds outside its migrations."""

from __future__ import annotations

import psycopg
from fix_migrate import migrate

from litellm_dbctl.migrate.locks import COORDINATOR_LOCK_KEY

API_KEY = "LiteLLM_SpendLogs_api_key_startTime_idx"
CALL_ID = "LiteLLM_SpendLogs_litellm_call_id_idx"


def _indexes(db, table: str = "LiteLLM_SpendLogs") -> dict[str, dict]:
    rows = db.query(
        "SELECT i.relname AS name, ix.indisvalid AS valid, ix.indisunique AS unique, "
        "pg_get_indexdef(ix.indexrelid) AS definition FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid "
        "WHERE ix.indrelid = to_regclass(%s)", (f'"{table}"',))
    return {r["name"]: r for r in rows}


def _spend_logs(db, count: int, call_id: str | None = None) -> None:
    db.execute('INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, "startTime", "endTime", api_key, '
               "litellm_call_id) SELECT 'r' || g, 'completion', now(), now(), 'k' || (g %% 7), "
               "coalesce(%s, 'c' || g) FROM generate_series(1, %s) g", (call_id, count))


def test_build_then_nothing_to_do(cli, db) -> None:
    _spend_logs(db, 50)
    dry = cli("migrate", "indexes", "--dry-run", "--json")
    assert dry.code == 3, dry
    assert [(a["index"], a["action"]) for a in dry.json()["indexes"]] == [(API_KEY, "would build"),
                                                                         (CALL_ID, "would build")]
    assert API_KEY not in _indexes(db)
    result = cli("migrate", "indexes", "--json")
    assert result.code == 0, result
    assert [a["action"] for a in result.json()["indexes"]] == ["built", "built"]
    built = _indexes(db)
    assert built[API_KEY]["valid"] and built[CALL_ID]["valid"]
    assert built[API_KEY]["definition"].endswith('USING btree (api_key, "startTime")')
    again = cli("migrate", "indexes", "--json")
    assert again.code == 0 and [a["action"] for a in again.json()["indexes"]] == ["present", "present"]
    doctor = cli("db", "doctor", "--json")
    checks = {c["name"]: c for c in doctor.json()["checks"]}
    assert checks[f"index {API_KEY}"]["ok"] and checks[f"index {CALL_ID}"]["ok"]


def test_invalid_index_is_dropped_and_rebuilt(cli, db) -> None:
    _spend_logs(db, 3, call_id="same")
    try:  # a failed concurrent build leaves an INVALID index behind
        db.execute(f'CREATE UNIQUE INDEX CONCURRENTLY "{CALL_ID}" ON "LiteLLM_SpendLogs" ("litellm_call_id")')
    except psycopg.errors.UniqueViolation:
        pass
    assert _indexes(db)[CALL_ID]["valid"] is False
    doctor = cli("db", "doctor", "--json")
    assert "migrate indexes" in {c["name"]: c for c in doctor.json()["checks"]}[f"index {CALL_ID}"]["hint"]
    result = cli("migrate", "indexes", "--json")
    assert result.code == 0, result
    actions = {a["index"]: a["action"] for a in result.json()["indexes"]}
    assert actions[CALL_ID] == "rebuilt"
    rebuilt = _indexes(db)[CALL_ID]
    assert rebuilt["valid"] and not rebuilt["unique"]


def test_equivalent_index_is_adopted_not_duplicated(cli, db) -> None:
    db.execute('CREATE INDEX "ops_call_id" ON "LiteLLM_SpendLogs" ("litellm_call_id")')
    db.execute('CREATE INDEX "ops_call_id_desc" ON "LiteLLM_SpendLogs" ("litellm_call_id" DESC)')  # not equivalent
    result = cli("migrate", "indexes", "--json")
    assert result.code == 0, result
    actions = {a["index"]: (a["action"], a["detail"]) for a in result.json()["indexes"]}
    assert actions[CALL_ID] == ("adopted", "renamed from ops_call_id")
    names = set(_indexes(db))
    assert CALL_ID in names and "ops_call_id" not in names and "ops_call_id_desc" in names


def test_partitioned_spend_logs(cli, db) -> None:
    db.execute('ALTER TABLE "LiteLLM_SpendLogs" RENAME TO "LiteLLM_SpendLogs_old"')
    db.execute('CREATE TABLE "LiteLLM_SpendLogs" (LIKE "LiteLLM_SpendLogs_old" INCLUDING DEFAULTS) '
               'PARTITION BY RANGE ("startTime")')
    for day, start, end in (("20240101", "2024-01-01", "2024-01-02"), ("20240102", "2024-01-02", "2024-01-03")):
        db.execute(f'CREATE TABLE "LiteLLM_SpendLogs_p{day}" PARTITION OF "LiteLLM_SpendLogs" '
                   f"FOR VALUES FROM ('{start}') TO ('{end}')")
    db.execute('INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, "startTime", "endTime", api_key) '
               "SELECT 'r' || g, 'completion', '2024-01-01'::timestamp + g * interval '1 minute', now(), 'k' "
               "FROM generate_series(1, 2000) g")
    # One partition already has its index under LiteLLM's name, as a proxy would have built it.
    db.execute('CREATE INDEX "LiteLLM_SpendLogs_p20240101_api_key_startTime_idx" '
               'ON "LiteLLM_SpendLogs_p20240101" ("api_key", "startTime")')
    dry = cli("migrate", "indexes", "--dry-run", "--json")
    assert dry.code == 3, dry
    plan = [(a["index"], a["action"]) for a in dry.json()["indexes"]]
    assert (API_KEY, "would create parent") in plan
    assert ("LiteLLM_SpendLogs_p20240102_api_key_startTime_idx", "would build") in plan
    assert ("LiteLLM_SpendLogs_p20240101_api_key_startTime_idx", "present") in plan
    result = cli("migrate", "indexes", "--json")
    assert result.code == 0, result
    for name in (API_KEY, CALL_ID):
        assert _indexes(db)[name]["valid"], name  # valid: every partition's index is attached
        assert " ON ONLY " in _indexes(db)[name]["definition"]
    attached = db.value(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = to_regclass(%s)", (f'"{API_KEY}"',))
    assert attached == 2
    assert _indexes(db, "LiteLLM_SpendLogs_p20240102")["LiteLLM_SpendLogs_p20240102_litellm_call_id_idx"]["valid"]
    again = cli("migrate", "indexes", "--json")
    assert again.code == 0 and {a["action"] for a in again.json()["indexes"]} == {"present"}


def test_coordinator_lock_held_elsewhere_gives_exit_5(cli, db) -> None:
    with db.connect() as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (COORDINATOR_LOCK_KEY,))
        result = cli("migrate", "indexes", "--lock-timeout", "0.2")
    assert result.code == 5, result
    assert API_KEY not in _indexes(db)


def test_schema_too_old_touches_nothing(empty_db) -> None:
    assert migrate(empty_db, "deploy", "--to", "20250326162113_baseline").code == 0
    result = migrate(empty_db, "indexes")
    assert result.code == 6, result
    assert "20260831120000_add_litellm_call_id_spend_logs" in result.stderr
    assert API_KEY not in _indexes(empty_db)
