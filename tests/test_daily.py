"""dbctl daily check / reconcile: against a reference aggregator written from the documented rules,
under injected drift, beside a concurrent writer, killed with -9, and on a partitioned SpendLogs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import fix_daily
import psycopg
import pytest
from fix_daily import INT_COUNTERS, TABLES, Log, insert_logs
from helpers import ROOT
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from litellm_dbctl.daily import repair, tables
from litellm_dbctl.db import config, database, sqlfiles

RANGE = ["--since", "2026-01-10", "--until", "2026-01-12"]
# DELETE, not TRUNCATE: a few rows per example, and TRUNCATE of seven tables costs ~0.3 s of file work.
EMPTY = "".join(f'DELETE FROM "{table}";' for table in ["LiteLLM_SpendLogs", *(t for t, _ in TABLES.values())])
HYPOTHESIS = settings(max_examples=40, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                             HealthCheck.data_too_large])


@pytest.fixture
def conn(db) -> Any:
    with psycopg.connect(db.url, autocommit=True, row_factory=dict_row) as connection:
        yield connection


def snapshot(conn: Any, day: str | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every daily row (all columns), per table, optionally of one day."""
    result = {}
    for name, (table, _) in TABLES.items():
        rows = conn.execute(f'SELECT * FROM "{table}" WHERE %(day)s::text IS NULL OR date = %(day)s ORDER BY id',
                            {"day": day}).fetchall()
        result[name] = [tuple(r.items()) for r in rows]
    return result


def keys_by_status(payload: dict[str, Any]) -> set[tuple[str, ...]]:
    return {(r["table"], r["entity_id"], r["date"], r["api_key"], r["model"], r["custom_llm_provider"],
             r["mcp_namespaced_tool_name"], r["endpoint"], r["status"]) for r in payload["rows"]}


# -- the rules ----------------------------------------------------------------------------------


@pytest.mark.slow
@HYPOTHESIS
@given(spend_logs=fix_daily.logs())
def test_reconcile_writes_what_litellm_would_have_and_twice_is_a_no_op(cli, conn, spend_logs: list[Log]) -> None:
    conn.execute(EMPTY)
    insert_logs(conn, spend_logs)
    expected = fix_daily.reference(spend_logs)

    checked = cli("daily", "check", *RANGE, "--json")
    assert checked.code == (3 if expected else 0), checked
    assert checked.json()["totals"]["missing"] == len(expected)

    first = cli("daily", "reconcile", *RANGE, "--json")
    assert first.code == 0, first
    assert first.json()["totals"]["inserted"] == len(expected)
    fix_daily.assert_matches_reference(conn, expected)

    before = snapshot(conn)
    second = cli("daily", "reconcile", *RANGE, "--json")
    assert second.code == 0 and second.json()["changed"] is False, second
    assert snapshot(conn) == before
    assert cli("daily", "check", *RANGE).code == 0


@pytest.mark.slow
@HYPOTHESIS
@given(data=st.data())
def test_drift_is_found_and_repaired_exactly(cli, conn, data: st.DataObject) -> None:
    conn.execute(EMPTY)
    spend_logs = data.draw(fix_daily.logs(max_size=15))
    expected = fix_daily.reference(spend_logs)
    assume(expected)
    insert_logs(conn, spend_logs)
    assert cli("daily", "reconcile", *RANGE).code == 0
    conn.execute("".join(f'UPDATE "{table}" SET prompt_caching_savings_spend = 0.25;' for table, _ in TABLES.values()))
    conn.execute("""INSERT INTO "LiteLLM_DailyTeamSpend" (id, team_id, date, api_key, model, custom_llm_provider,
                    mcp_namespaced_tool_name, endpoint, ptu_flat_cost, updated_at)
                    VALUES ('ptu', 't1', '2026-01-11', '__ptu_flat_cost__', 'model-id', '', '', '', 42, now())""")
    ptu_before = conn.execute("""SELECT * FROM "LiteLLM_DailyTeamSpend" WHERE id = 'ptu'""").fetchone()

    keys = data.draw(st.permutations(sorted(k for k in fix_daily.stored(conn) if k[3] != "__ptu_flat_cost__")))
    deleted, altered, legacy, nulled = keys[:data.draw(st.integers(0, 2))], [], [], []
    rest = keys[len(deleted):]
    altered = rest[:data.draw(st.integers(0, 2))]
    rest = rest[len(altered):]
    splittable = [k for k in rest if _nullable_key_column(k)]
    legacy = splittable[:data.draw(st.integers(0, 2))]
    nulled = [k for k in splittable[len(legacy):] if k not in legacy][:data.draw(st.integers(0, 1))]
    extra = [(name, f"ghost-{i}", "2026-01-11", "k9", "m", "", "", "")
             for i, name in enumerate(data.draw(st.lists(st.sampled_from(sorted(TABLES)), max_size=2)))]

    rows = fix_daily.stored(conn)
    for key in deleted:
        conn.execute(f'DELETE FROM "{TABLES[key[0]][0]}" WHERE id = %s', [rows[key]["id"]])
    for key in altered:
        column = data.draw(st.sampled_from([*INT_COUNTERS, "spend"]))
        conn.execute(f'UPDATE "{TABLES[key[0]][0]}" SET "{column}" = "{column}" + 3 WHERE id = %s',
                     [rows[key]["id"]])
    for i, key in enumerate(legacy):  # half of the row moves to a copy with NULL in an '' key column
        table, column = TABLES[key[0]][0], _nullable_key_column(key)
        conn.execute(f'CREATE TEMP TABLE legacy_copy AS SELECT * FROM "{table}" WHERE id = %s', [rows[key]["id"]])
        others = ", ".join(f"{c} = 0" for c in INT_COUNTERS if c != "prompt_tokens")
        conn.execute(f"""UPDATE legacy_copy SET id = %s, "{column}" = NULL, prompt_tokens = prompt_tokens / 2,
                         spend = spend / 2, prompt_caching_savings_spend = 0.5, {others}""", [f"legacy-{i}"])
        conn.execute(f"""UPDATE "{table}" SET prompt_tokens = prompt_tokens - prompt_tokens / 2, spend = spend / 2
                         WHERE id = %s""", [rows[key]["id"]])
        conn.execute(f'INSERT INTO "{table}" SELECT * FROM legacy_copy; DROP TABLE legacy_copy')
    for key in nulled:  # the key's only row becomes a legacy row
        conn.execute(f'UPDATE "{TABLES[key[0]][0]}" SET "{_nullable_key_column(key)}" = NULL WHERE id = %s',
                     [rows[key]["id"]])
    for key in extra:
        table, entity = TABLES[key[0]]
        conn.execute(f"""INSERT INTO "{table}" (id, "{entity}", date, api_key, model, custom_llm_provider,
            mcp_namespaced_tool_name, endpoint, spend, api_requests, updated_at)
            VALUES (%s, %s, %s, %s, %s, '', '', '', 1.5, 1, now())""", [f"extra-{key[1]}", *key[1:5]])

    statuses = {**dict.fromkeys(deleted, "missing"), **dict.fromkeys(altered, "differ"),
                **dict.fromkeys(legacy + nulled, "legacy"), **dict.fromkeys(extra, "extra")}
    checked = cli("daily", "check", *RANGE, "--details", "--json")
    assert checked.code == (3 if statuses else 0), checked
    assert keys_by_status(checked.json()) == {(*k, s) for k, s in statuses.items()}

    before = snapshot(conn)
    dry = cli("daily", "reconcile", *RANGE, "--prune-orphans", "--dry-run", "--json")
    assert dry.code == (3 if statuses else 0), dry
    totals = dry.json()["totals"]
    assert (totals["inserted"], totals["updated"], totals["merged"], totals["normalized"], totals["pruned"]) == (
        len(deleted), len(altered), len(legacy), len(nulled), len(extra))
    assert snapshot(conn) == before

    repaired = cli("daily", "reconcile", *RANGE, "--prune-orphans", "--json")
    assert repaired.code == 0, repaired
    assert {k: v for k, v in repaired.json()["totals"].items() if k != "spend_delta"} == {
        k: v for k, v in totals.items() if k != "spend_delta"}
    fix_daily.assert_matches_reference(conn, expected, ignore_api_key="__ptu_flat_cost__")
    savings = {k: r["prompt_caching_savings_spend"] for k, r in fix_daily.stored(conn).items()}
    for key in expected:
        assert savings[key] == (0.0 if key in deleted else 0.75 if key in legacy else 0.25), key
    assert conn.execute("""SELECT * FROM "LiteLLM_DailyTeamSpend" WHERE id = 'ptu'""").fetchone() == ptu_before
    assert cli("daily", "check", *RANGE).code == 0


def _nullable_key_column(key: tuple[str, ...]) -> str | None:
    """A key column whose value is '', so a legacy row may hold NULL there (None when there is none)."""
    columns = (TABLES[key[0]][1], "model", "custom_llm_provider", "mcp_namespaced_tool_name", "endpoint")
    values = (key[1], *key[4:8])
    return next((c for c, v in zip(columns, values) if v == ""), None)


@pytest.mark.slow
def test_orphans_are_kept_unless_pruned_and_open_days_are_skipped(cli, conn) -> None:
    today = tables.utc_today()
    stamp = datetime.combine(today, datetime.min.time())
    insert_logs(conn, fix_daily.plain_logs(3, stamp, 1, 20, prefix="today"))
    conn.execute("""INSERT INTO "LiteLLM_DailyUserSpend" (id, user_id, date, api_key, model, custom_llm_provider,
                    mcp_namespaced_tool_name, endpoint, spend, updated_at)
                    VALUES ('orphan', 'gone', '2026-01-10', 'k', 'm', '', '', '', 5, now())""")
    span = ["--since", "2026-01-10", "--until", "today"]
    kept = cli("daily", "reconcile", *span, "--json")
    assert kept.code == 0, kept
    payload = kept.json()
    # today, and just after midnight yesterday too (a day stays open for the settle time)
    open_days = repair.closed_days([today - timedelta(days=1), today], now=datetime.now(timezone.utc),
                                       settle=repair.DEFAULT_SETTLE)[1]
    assert payload["open_days"] == [d.isoformat() for d in open_days] and payload["totals"]["orphans_kept"] == 1
    assert payload["totals"]["inserted"] == 0  # today's missing rows wait for the day to close
    assert conn.execute("""SELECT count(*) AS n FROM "LiteLLM_DailyUserSpend" WHERE id = 'orphan'""").fetchone()["n"] == 1

    assert cli("daily", "reconcile", *span, "--include-today", "--prune-orphans").code == 0
    assert conn.execute("""SELECT count(*) AS n FROM "LiteLLM_DailyUserSpend" WHERE id = 'orphan'""").fetchone()["n"] == 0
    assert cli("daily", "check", "--since", "today", "--until", "today").code == 0


# -- concurrency and crashes --------------------------------------------------------------------

UPSERT = """INSERT INTO "{table}" AS d (id, "{entity}", date, api_key, model, custom_llm_provider,
    mcp_namespaced_tool_name, endpoint, model_group, prompt_tokens, completion_tokens, spend, api_requests,
    successful_requests, total_response_time_ms, timed_requests, updated_at)
VALUES (gen_random_uuid()::text, %(entity)s, %(date)s, 'k1', 'gpt', 'openai', '', '/chat/completions', 'g1', 10, 5,
    0.5, 1, 1, 100, 1, now())
ON CONFLICT ("{entity}", date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint) DO UPDATE SET
    prompt_tokens = d.prompt_tokens + EXCLUDED.prompt_tokens,
    completion_tokens = d.completion_tokens + EXCLUDED.completion_tokens, spend = d.spend + EXCLUDED.spend,
    api_requests = d.api_requests + EXCLUDED.api_requests,
    successful_requests = d.successful_requests + EXCLUDED.successful_requests,
    total_response_time_ms = d.total_response_time_ms + EXCLUDED.total_response_time_ms,
    timed_requests = d.timed_requests + EXCLUDED.timed_requests, updated_at = now()"""


def test_a_concurrent_writer_loses_nothing(cli, db, conn) -> None:
    """A proxy keeps logging requests for today (log + daily increments, one transaction each, as
    LiteLLM's two writers end up) while reconcile repairs today over and over: afterwards the
    tables equal the logs exactly, so no increment was lost or counted twice."""
    today = tables.utc_today()
    start = datetime.combine(today, datetime.min.time())
    insert_logs(conn, fix_daily.plain_logs(5, start, 1, 60, prefix="seed"))
    span = ["--since", "today", "--until", "today", "--include-today"]
    assert cli("daily", "reconcile", *span).code == 0
    stop = threading.Event()
    written = []

    def proxy() -> None:
        with psycopg.connect(db.url, autocommit=True) as writer:
            while not stop.is_set():
                number = len(written)
                log = Log(f"live-{number:05d}", "acompletion", start, start + timedelta(milliseconds=100), 100,
                          "k1", "gpt", "openai", None, "g1", "u1", "t1", None, None, None, ["w"],
                          {"status": "success"}, "success", 0.5, 10, 5)
                with writer.transaction():
                    insert_logs(writer, [log])
                    for name, entity in (("user", "u1"), ("team", "t1"), ("tag", "w")):
                        table, column = TABLES[name]
                        writer.execute(UPSERT.format(table=table, entity=column),
                                       {"entity": entity, "date": today.isoformat()})
                written.append(log)

    thread = threading.Thread(target=proxy)
    thread.start()
    target = config.parse(db.url, "test")
    try:
        for _ in range(6):
            conn.execute("""UPDATE "LiteLLM_DailyUserSpend" SET api_requests = api_requests + 1000, spend = spend + 7
                            WHERE user_id = 'u1'""")  # drift for reconcile to remove while the writer writes
            repair.reconcile(target, today, today, include_today=True)
    finally:
        stop.set()
        thread.join()
    assert len(written) > 20
    checked = cli("daily", "check", "--since", "today", "--until", "today", "--details", "--json")
    assert checked.code == 0, checked.json()["rows"]
    total = conn.execute("""SELECT sum(api_requests) AS n FROM "LiteLLM_DailyTagSpend" WHERE tag = 'w'""").fetchone()
    assert total["n"] == len(written)


@pytest.mark.slow
def test_kill_9_leaves_every_day_either_untouched_or_repaired(cli, db, conn) -> None:
    days = [f"2026-01-{10 + i}" for i in range(6)]
    insert_logs(conn, fix_daily.plain_logs(11, fix_daily.FIRST_DAY, len(days), 600))
    span = ["--since", days[0], "--until", days[-1]]
    assert cli("daily", "reconcile", *span).code == 0
    for table, _ in TABLES.values():  # drift on every day: a deleted row, an inflated one
        conn.execute(f"""DELETE FROM "{table}" WHERE id IN (SELECT DISTINCT ON (date) id FROM "{table}" ORDER BY date, id);
                         UPDATE "{table}" SET spend = spend + 1 WHERE id IN (
                             SELECT DISTINCT ON (date) id FROM "{table}" ORDER BY date, id DESC)""")
    before = {day: snapshot(conn, day) for day in days}
    child = subprocess.Popen([sys.executable, "-m", "litellm_dbctl", "--database-url", db.url, "daily", "reconcile",
                              *span], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.stderr is not None
    for line in child.stderr:
        if line.startswith(days[0]):
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait()
    assert child.returncode == -signal.SIGKILL
    repaired = []
    for day in days:
        if cli("daily", "check", "--since", day, "--until", day).code == 0:
            repaired.append(day)
        else:
            assert snapshot(conn, day) == before[day], f"{day} is neither untouched nor repaired"
    assert days[0] in repaired and len(repaired) < len(days), repaired
    assert cli("daily", "reconcile", *span).code == 0
    assert cli("daily", "check", *span).code == 0


def test_a_failing_day_stops_the_run_untouched_after_the_days_before_it(cli, conn) -> None:
    insert_logs(conn, fix_daily.plain_logs(29, fix_daily.FIRST_DAY, 3, 20))
    conn.execute("""CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION 'refused %', NEW.date; END $$;
                    CREATE TRIGGER refuse BEFORE INSERT ON "LiteLLM_DailyTagSpend"
                    FOR EACH ROW WHEN (NEW.date = '2026-01-11') EXECUTE FUNCTION refuse()""")
    failed = cli("daily", "reconcile", *RANGE)
    assert failed.code == 1 and "daily reconcile 2026-01-11" in failed.stderr, failed
    assert "2026-01-11 is untouched" in failed.stderr
    assert cli("daily", "check", "--since", "2026-01-10", "--until", "2026-01-10").code == 0
    assert conn.execute("""SELECT count(*) AS n FROM "LiteLLM_DailyUserSpend" WHERE date > '2026-01-10'""").fetchone()["n"] == 0


def test_lock_busy_is_exit_5_and_bad_input_exit_2(cli, db) -> None:
    with psycopg.connect(db.url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [database.family_key("daily")])
        busy = cli("daily", "reconcile", *RANGE, "--lock-timeout", "0.2")
        assert busy.code == 5 and "daily reconcile" in busy.stderr, busy
    assert cli("daily", "check", "--table", "users,nope").code == 2
    assert cli("daily", "check", "--since", "2026-01-12", "--until", "2026-01-10").code == 2
    assert cli("daily", "check", "--since", "last tuesday").code == 2
    bad_settle = cli("daily", "reconcile", "--settle", "soon")
    assert bad_settle.code == 2 and "--settle" in bad_settle.stderr
    assert cli("daily", "check", "--work-mem", "lots").code == 2


# -- partitioned spend logs ---------------------------------------------------------------------

PARTITION = """
ALTER TABLE "LiteLLM_SpendLogs" RENAME TO "LiteLLM_SpendLogs_plain";
CREATE TABLE "LiteLLM_SpendLogs" (LIKE "LiteLLM_SpendLogs_plain" INCLUDING DEFAULTS) PARTITION BY RANGE ("startTime");
ALTER TABLE "LiteLLM_SpendLogs" ADD PRIMARY KEY (request_id, "startTime");
CREATE INDEX ON "LiteLLM_SpendLogs" ("startTime");
CREATE INDEX ON "LiteLLM_SpendLogs" (api_key, "startTime");
CREATE TABLE "LiteLLM_SpendLogs_p20260110" PARTITION OF "LiteLLM_SpendLogs" FOR VALUES FROM ('2026-01-10') TO ('2026-01-11');
CREATE TABLE "LiteLLM_SpendLogs_p20260111" PARTITION OF "LiteLLM_SpendLogs" FOR VALUES FROM ('2026-01-11') TO ('2026-01-12');
CREATE TABLE "LiteLLM_SpendLogs_p20260112" PARTITION OF "LiteLLM_SpendLogs" FOR VALUES FROM ('2026-01-12') TO ('2026-01-13');
INSERT INTO "LiteLLM_SpendLogs" SELECT * FROM "LiteLLM_SpendLogs_plain";
DROP TABLE "LiteLLM_SpendLogs_plain";
ANALYZE "LiteLLM_SpendLogs";
"""


def test_partitioned_spend_logs_are_read_one_partition_per_day(cli, conn) -> None:
    spend_logs = fix_daily.plain_logs(17, fix_daily.FIRST_DAY, 3, 150)
    insert_logs(conn, spend_logs)
    conn.execute(PARTITION)
    assert cli("daily", "check", *RANGE).code == 3
    assert cli("daily", "reconcile", *RANGE).code == 0
    fix_daily.assert_matches_reference(conn, fix_daily.reference(spend_logs))
    assert cli("daily", "check", *RANGE).code == 0

    day = datetime(2026, 1, 11).date()
    params = {"since": day, "until": day + timedelta(days=1), "tables": list(tables.TABLE_NAMES),
              "keys": True, "first_writer": True, "litellm_1110": False}
    plan = "\n".join(r["QUERY PLAN"] for r in conn.execute(
        "EXPLAIN (COSTS OFF) " + sqlfiles.bind(sqlfiles.get("daily/diff").sql, {"deliveries": "no_deliveries"}),
        params).fetchall())
    assert "LiteLLM_SpendLogs_p20260111" in plan
    assert "p20260110" not in plan and "p20260112" not in plan, plan


def test_check_output_names_days_tables_and_keys(cli, conn) -> None:
    spend_logs = fix_daily.plain_logs(23, fix_daily.FIRST_DAY, 1, 30)
    insert_logs(conn, spend_logs)
    day = ["--since", "2026-01-10", "--until", "2026-01-10"]
    table = cli("daily", "check", *day, "--table", "team,tag", "--details")
    assert table.code == 3
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["date", "table", "state", "missing", "extra", "differ", "legacy", "spend_delta"]
    assert [line.split()[1] for line in lines[1:3]] == ["team", "tag"]
    assert "prompt_tokens +" in table.stdout and lines[-1].startswith("drift in 2 of 2 day-tables")

    payload = cli("daily", "check", *day, "--details", "--json").json()
    expected = fix_daily.reference(spend_logs)
    assert payload["tables"] == list(tables.TABLE_NAMES) and len(payload["days"]) == 6
    assert payload["totals"]["missing"] == len(expected) == len(payload["rows"])
    row = payload["rows"][0]
    ref = expected[(row["table"], row["entity_id"], row["date"], row["api_key"], row["model"],
                    row["custom_llm_provider"], row["mcp_namespaced_tool_name"], row["endpoint"])]
    assert row["delta"] == {**ref.counters, "spend": pytest.approx(ref.spend)} and row["spend_stored"] == 0
    assert row["requests"] > 0 and row["stored_rows"] == 0 and "spend" in row["differences"]
    quiet = cli("daily", "check", *day, "-q")
    assert quiet.code == 3 and quiet.stdout == "" and "drift in 6 of 6" in quiet.stderr


def test_now_decides_which_days_are_closed() -> None:
    midnight = datetime(2026, 1, 11, tzinfo=timezone.utc)
    days = [datetime(2026, 1, 10).date(), datetime(2026, 1, 11).date()]
    settle = timedelta(hours=1)
    assert repair.closed_days(days, now=midnight + timedelta(minutes=59), settle=settle) == ([], days)
    assert repair.closed_days(days, now=midnight + settle, settle=settle) == (days[:1], days[1:])
