"""`daily check|reconcile` on LiteLLM 1.110's spend-log outbox: a request whose delivery is pending or
parked has its log written but not its daily increment (the proxy's worker adds it later), so both
leave it out, say how many, and a reconcile never adds what the worker will add again."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import fix_daily
import psycopg
import pytest
from fix_daily import INT_COUNTERS, insert_logs
from fix_outbox import add_delivery
from helpers import ROOT, Database, invoke
from psycopg.rows import dict_row

RANGE = ["--since", "2026-01-10", "--until", "2026-01-12"]


@pytest.fixture
def conn(outbox_db: Database) -> Iterator[Any]:
    with psycopg.connect(outbox_db.url, autocommit=True, row_factory=dict_row) as connection:
        yield connection


def daily(db: Database, *args: str) -> Any:
    return invoke(["--database-url", db.url, "daily", *args])


def test_pending_and_parked_requests_are_left_out_counted_and_never_counted_twice(outbox_db: Database,
                                                                                  conn: Any) -> None:
    applied = fix_daily.plain_logs(41, fix_daily.FIRST_DAY, 3, 60, prefix="a")
    pending = fix_daily.plain_logs(42, fix_daily.FIRST_DAY, 3, 7, prefix="p")
    parked = fix_daily.plain_logs(43, fix_daily.FIRST_DAY, 3, 2, prefix="x")
    insert_logs(conn, applied)
    assert daily(outbox_db, "reconcile", *RANGE).code == 0  # the dailies of the applied requests
    fix_daily.assert_matches_reference(conn, fix_daily.reference(applied))
    for log in applied[:20]:  # applied deliveries kept until LiteLLM's retention: counted as usual
        add_delivery(outbox_db, log.request_id, state="applied")
    insert_logs(conn, pending + parked)
    for log in pending:
        add_delivery(outbox_db, log.request_id)
    for log in parked:
        add_delivery(outbox_db, log.request_id, state="parked", attempts=5, last_error="ValueError")

    check = daily(outbox_db, "check", *RANGE, "--json")
    assert check.code == 0, check  # counted, they would be drift (missing and differing keys): exit 3
    assert check.json()["unapplied"]["pending"] == 21 and check.json()["unapplied"]["parked"] == 6
    assert [d["date"] for d in check.json()["unapplied"]["days"]] == ["2026-01-10", "2026-01-11", "2026-01-12"]
    assert "left out 27 request(s) whose spend-log delivery the proxy has not applied yet " \
           "(21 pending, 6 parked; dbctl accounting retry --parked hands those back)" in check.stderr

    before = fix_daily.stored(conn)
    reconciled = daily(outbox_db, "reconcile", *RANGE, "--json")
    assert reconciled.code == 0 and reconciled.json()["changed"] is False, reconciled
    assert reconciled.json()["unapplied"]["pending"] == 21
    assert fix_daily.stored(conn) == before  # nothing of the pending or parked requests was added

    # The worker applies the pending ones: their increments land once (simulated by marking them
    # applied and letting reconcile add exactly what the logs say is missing).
    conn.execute('UPDATE "LiteLLM_SpendLogDelivery" SET state = \'applied\' WHERE request_id LIKE \'p-%\'')
    assert daily(outbox_db, "reconcile", *RANGE).code == 0
    fix_daily.assert_matches_reference(conn, fix_daily.reference(applied + pending), model_group=False)
    again = daily(outbox_db, "check", *RANGE, "-q")
    assert again.code == 0 and again.stderr == ""  # -q: the note is a diagnostic

    assert invoke(["--database-url", outbox_db.url, "accounting", "retry", "--parked"]).code == 0
    retried = daily(outbox_db, "check", *RANGE, "--json").json()["unapplied"]
    assert (retried["pending"], retried["parked"]) == (6, 0)


def test_without_outbox_nothing_is_left_out(db: Database) -> None:
    with psycopg.connect(db.url, autocommit=True, row_factory=dict_row) as connection:
        insert_logs(connection, fix_daily.plain_logs(44, fix_daily.FIRST_DAY, 1, 5))
    check = daily(db, "check", "--since", "2026-01-10", "--until", "2026-01-10", "--json")
    assert check.code == 3 and check.json()["unapplied"] == {"pending": 0, "parked": 0, "days": []}
    assert "left out" not in check.stderr


WORKER_ROWS = ROOT / "tests" / "data" / "outbox" / "worker_rows.json"


def _log(fields: dict[str, Any]) -> fix_daily.Log:
    fields = {k: v for k, v in fields.items() if k != "parked"}
    return fix_daily.Log(**{**fields, "start": datetime.fromisoformat(fields["start"]),
                            "end": datetime.fromisoformat(fields["end"])})


def test_reconcile_writes_the_rows_litellm_1110s_worker_projects_for_the_same_requests(outbox_db: Database,
                                                                                      conn: Any) -> None:
    """worker_rows.json: the daily rows litellm 1.110.2's own projection code (project_deliveries)
    gives for these logs' accounting payloads (tests/data/outbox/generate_worker_rows.py)."""
    fixture = json.loads(WORKER_ROWS.read_text())
    logs = [_log(fields) for fields in fixture["logs"]]
    insert_logs(conn, logs)
    for log in logs[::3]:  # applied deliveries, kept until LiteLLM's retention: counted like any log
        add_delivery(outbox_db, log.request_id, state="applied")
    for fields in fixture["logs"]:  # the worker parks what its projection rejects: never in its rows
        if fields["parked"]:
            outbox_db.execute('DELETE FROM "LiteLLM_SpendLogDelivery" WHERE request_id = %s', (fields["request_id"],))
            add_delivery(outbox_db, fields["request_id"], state="parked", attempts=5, last_error="ValidationError")
    assert daily(outbox_db, "reconcile", "--since", "2026-01-10", "--until", "2026-01-12").code == 0
    worker = {(r["table"], r["entity_id"], r["date"], r["api_key"], r["model"], r["custom_llm_provider"],
               r["mcp_namespaced_tool_name"], r["endpoint"]): r for r in fixture["rows"]}
    stored = fix_daily.stored(conn)
    assert set(stored) == set(worker), (sorted(set(stored) - set(worker)), sorted(set(worker) - set(stored)))
    for key, row in worker.items():
        assert {n: stored[key][n] for n in INT_COUNTERS} == {n: row[n] for n in INT_COUNTERS}, key
        assert math.isclose(stored[key]["spend"], row["spend"], rel_tol=1e-9, abs_tol=1e-12), key
