"""`dbctl accounting status|retry` on LiteLLM 1.110's spend-log outbox (outbox_db), and on a database without one."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from fix_outbox import add_delivery
from helpers import Database, invoke

from litellm_dbctl.common.errors import ExitCode
from litellm_dbctl.db import querycheck, sqlfiles


def run(db: Database, *args: str) -> Any:
    return invoke(["--database-url", db.url, "accounting", *args])


def deliveries(db: Database) -> dict[str, dict[str, Any]]:
    return {r["request_id"]: r for r in db.query('SELECT * FROM "LiteLLM_SpendLogDelivery"')}


@pytest.fixture
def mixed(outbox_db: Database) -> Database:
    add_delivery(outbox_db, "fresh", age="10 minutes")
    add_delivery(outbox_db, "backoff", attempts=2, last_error="OperationalError", age="2 hours")
    add_delivery(outbox_db, "p1", state="parked", attempts=5, last_error="ValueError", age="3 hours")
    add_delivery(outbox_db, "p2", state="parked", attempts=5, last_error="ValueError", age="30 minutes")
    add_delivery(outbox_db, "p3", state="parked", attempts=1, last_error="UndecodablePayload", age="1 day")
    add_delivery(outbox_db, "done", state="applied")
    return outbox_db


def test_status_counts_states_ages_and_groups_parked_by_error_and_exits_3(mixed: Database) -> None:
    result = run(mixed, "status", "--json")
    assert result.code == 3, result
    body = result.json()
    assert (body["pending"], body["retrying"], body["parked"], body["applied"]) == (2, 1, 3, 1)
    assert 7190 < body["oldest_pending_seconds"] < 7300  # the 2-hour-old one
    assert [(g["last_error"], g["deliveries"]) for g in body["parked_by_error"]] == [
        ("ValueError", 2), ("UndecodablePayload", 1)]
    assert "3 parked spend-log deliveries: ValueError x2, UndecodablePayload x1" in result.stderr
    quiet = run(mixed, "status", "-q")
    assert (quiet.code, quiet.stdout) == (3, "")  # for cron: only the line naming what was found
    assert quiet.stderr == "dbctl: 3 parked spend-log deliveries: ValueError x2, UndecodablePayload x1\n"
    table = run(mixed, "status")
    assert "2 pending (1 retrying, oldest 2h), 3 parked, 1 applied" in table.stdout
    assert "UndecodablePayload" in table.stdout


def test_status_without_parked_is_0_and_without_outbox_is_a_note(outbox_db: Database, db: Database) -> None:
    add_delivery(outbox_db, "fresh")
    assert run(outbox_db, "status", "-q").code == 0
    result = run(db, "status")
    assert result.code == 0 and "no spend-log outbox" in result.stderr
    assert run(db, "status", "--json").json() == {"outbox": False}


def test_retry_parked_makes_them_look_as_the_worker_retries_a_row_with_an_audit_row(mixed: Database) -> None:
    before = deliveries(mixed)
    result = run(mixed, "retry", "--parked", "--json", "--actor", "ops")
    assert result.code == 0, result
    assert sorted(d["request_id"] for d in result.json()["deliveries"]) == ["p1", "p2", "p3"]
    after = deliveries(mixed)
    now = mixed.value("SELECT LOCALTIMESTAMP")
    for name in ("p1", "p2", "p3"):
        row = after[name]
        # _CLAIM with retry_only: state pending, due, attempts > 0; _FAILED parks at attempts + 1 >= 5.
        assert (row["state"], row["attempts"], row["applied_at"]) == ("pending", 1, None)
        assert row["next_attempt_at"] <= now and row["last_error"] == before[name]["last_error"]
        assert row["accounting_payload"] == before[name]["accounting_payload"]
    claimable = mixed.value(
        'SELECT count(*) FROM "LiteLLM_SpendLogDelivery" WHERE state = \'pending\' '
        "AND next_attempt_at <= CURRENT_TIMESTAMP AND (attempts > 0) = true")
    assert claimable == 3  # the worker's retry pass (_CLAIM, $2 = true) takes all three
    assert after["backoff"] == before["backoff"] and after["fresh"] == before["fresh"]
    audits = mixed.query('SELECT * FROM "LiteLLM_AuditLog" WHERE table_name = \'LiteLLM_SpendLogDelivery\'')
    assert sorted(a["object_id"] for a in audits) == ["p1", "p2", "p3"]
    assert {a["changed_by"] for a in audits} == {"ops"} and {a["action"] for a in audits} == {"updated"}
    p1 = next(a for a in audits if a["object_id"] == "p1")
    assert p1["before_value"]["state"] == "parked" and p1["updated_values"]["state"] == "pending"
    assert run(mixed, "status", "-q").code == 0


def test_retry_dry_run_is_3_and_changes_nothing(mixed: Database) -> None:
    before = deliveries(mixed)
    result = run(mixed, "retry", "--parked", "--dry-run", "-q")
    assert result.code == 3 and "would retry 3 deliveries" in result.stderr
    assert deliveries(mixed) == before
    assert mixed.value('SELECT count(*) FROM "LiteLLM_AuditLog"') == 0


def test_retry_selects_by_request_and_age_and_makes_a_backoff_due_keeping_its_attempts(mixed: Database) -> None:
    result = run(mixed, "retry", "--older-than", "1h", "--json", "--no-audit")
    assert sorted(d["request_id"] for d in result.json()["deliveries"]) == ["backoff", "p1", "p3"]
    rows = deliveries(mixed)
    assert rows["backoff"]["attempts"] == 2 and rows["backoff"]["state"] == "pending"
    assert rows["p2"]["state"] == "parked" and rows["fresh"]["attempts"] == 0
    assert mixed.value('SELECT count(*) FROM "LiteLLM_AuditLog"') == 0
    one = run(mixed, "retry", "--request-id", "p2", "--json")
    assert [d["request_id"] for d in one.json()["deliveries"]] == ["p2"]
    assert run(mixed, "retry", "--request-id", "fresh", "--json").json()["deliveries"] == []


@pytest.mark.parametrize("args", [[], ["--older-than", "soon"], ["--request-id", "a\x00b"]])
def test_retry_bad_input_is_2_naming_the_flag(mixed: Database, args: list[str]) -> None:
    result = run(mixed, "retry", *args)
    assert result.code == ExitCode.USAGE, result
    assert ("--" in result.stderr) and deliveries(mixed)["p1"]["state"] == "parked"


def test_retry_without_outbox_is_0_with_a_note(db: Database) -> None:
    result = run(db, "retry", "--parked")
    assert result.code == 0 and "no spend-log outbox" in result.stderr


@pytest.mark.slow
def test_retry_waits_for_a_worker_claim_at_most_lock_timeout_then_5(mixed: Database) -> None:
    """The worker claims rows FOR UPDATE SKIP LOCKED in a transaction; retry waits for it, bounded."""
    claimed, release = threading.Event(), threading.Event()

    def worker() -> None:
        with psycopg.connect(mixed.url) as conn:
            conn.execute('SELECT 1 FROM "LiteLLM_SpendLogDelivery" WHERE request_id = \'p1\' FOR UPDATE')
            claimed.set()
            release.wait(10)
            conn.rollback()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        claimed.wait(5)
        started = time.monotonic()
        result = run(mixed, "retry", "--parked", "--lock-timeout", "1500ms")
        assert result.code == ExitCode.LOCKED, result
        assert time.monotonic() - started < 6
        assert deliveries(mixed)["p1"]["state"] == "parked"
    finally:
        release.set()
        thread.join()


def test_accounting_queries_check_on_the_outbox_schema_and_are_skipped_without_it(outbox_db: Database,
                                                                                   db: Database) -> None:
    queries = [q for name, q in sqlfiles.registry().items() if name.startswith("accounting/")]
    assert len(queries) >= 5
    for database_ in (outbox_db, db):
        with psycopg.connect(database_.url, autocommit=True) as conn:
            assert querycheck.check(conn, queries) == []


def test_times_are_the_servers_as_the_worker_writes_and_reads_them(outbox_db: Database) -> None:
    """LiteLLM's raw SQL writes created_at / next_attempt_at as CURRENT_TIMESTAMP (the session's local
    time) and claims `next_attempt_at <= CURRENT_TIMESTAMP`: on a server whose time zone is not UTC,
    a retried row is due at once and a 2-hour-old one is 2 hours old."""
    outbox_db.execute(f'ALTER DATABASE "{outbox_db.name}" SET timezone = \'America/New_York\'')
    add_delivery(outbox_db, "p", state="parked", attempts=5, last_error="ValueError", age="2 hours")
    add_delivery(outbox_db, "q", age="2 hours")
    assert 7190 < run(outbox_db, "status", "--json").json()["oldest_pending_seconds"] < 7300
    assert run(outbox_db, "retry", "--parked", "--older-than", "90m").code == 0
    claimable = outbox_db.value(
        'SELECT count(*) FROM "LiteLLM_SpendLogDelivery" WHERE state = \'pending\' '
        "AND next_attempt_at <= CURRENT_TIMESTAMP AND attempts > 0")
    assert claimable == 1
