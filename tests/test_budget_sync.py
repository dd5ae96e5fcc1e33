"""`dbctl budget sync`: window resets for every entity type, guarded and increment-safe."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

import fix_budget as fx
import psycopg
import pytest
from helpers import Database, run_process
from psycopg.types.json import Jsonb

NOW = "2026-06-10T12:00:00Z"  # a Wednesday
TOMORROW = datetime(2026, 6, 11)
MONDAY = datetime(2026, 6, 15)
NEXT_MONTH = datetime(2026, 7, 1)


def sync(cli, *args: str):
    return cli("budget", "sync", "--now", NOW, "--json", *args)


def test_keys_users_teams_due_and_not_due(cli, db: Database) -> None:
    fx.key(db, "k-due", spend=5.0, max_budget=10.0, budget_duration="1d", budget_reset_at=fx.PAST)
    fx.key(db, "k-later", spend=5.0, budget_duration="1d", budget_reset_at=fx.FUTURE)
    fx.key(db, "k-none", spend=5.0, budget_reset_at=fx.PAST)  # no duration: never reset
    fx.key(db, "k-expired", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST, expires=datetime(2026, 6, 1))
    fx.user(db, "u-due", spend=7.0, budget_duration="7d", budget_reset_at=fx.PAST)
    fx.user(db, "u-later", spend=7.0, budget_duration="7d", budget_reset_at=fx.FUTURE)
    fx.team(db, "t-due", spend=9.0, budget_duration="1mo", budget_reset_at=fx.PAST)
    fx.team(db, "t-later", spend=9.0, budget_duration="1mo", budget_reset_at=fx.FUTURE)

    result = sync(cli)
    assert result.code == 0, result
    changed = {(c["entity"], c["id"]): c for c in result.json()["changes"]}
    assert set(changed) == {("key", "k-due"), ("user", "u-due"), ("team", "t-due")}
    assert changed[("key", "k-due")]["changes"]["spend"] == {"old": 5.0, "new": 0.0}
    assert changed[("user", "u-due")]["changes"]["budget_reset_at"]["new"] == "2026-06-15T00:00:00+00:00"

    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k-due") == 0
    assert fx.reset_at(db, "LiteLLM_VerificationToken", "token", "k-due") == TOMORROW
    assert fx.reset_at(db, "LiteLLM_UserTable", "user_id", "u-due") == MONDAY
    assert fx.reset_at(db, "LiteLLM_TeamTable", "team_id", "t-due") == NEXT_MONTH
    for table, column, ident in (("LiteLLM_VerificationToken", "token", "k-later"),
                                 ("LiteLLM_VerificationToken", "token", "k-none"),
                                 ("LiteLLM_VerificationToken", "token", "k-expired"),
                                 ("LiteLLM_UserTable", "user_id", "u-later"),
                                 ("LiteLLM_TeamTable", "team_id", "t-later")):
        assert fx.spend(db, table, column, ident) > 0, ident

    again = sync(cli, "--check")
    assert again.code == 0 and again.json()["changes"] == []


def test_budget_tier_cascade(cli, db: Database) -> None:
    fx.tier(db, "gold", max_budget=4.0, budget_duration="1d", budget_reset_at=fx.PAST)
    fx.tier(db, "silver", max_budget=4.0, budget_duration="1d", budget_reset_at=fx.FUTURE)
    fx.end_user(db, "eu-gold", spend=3.0, budget_id="gold")
    fx.end_user(db, "eu-silver", spend=3.0, budget_id="silver")
    fx.end_user(db, "eu-default", spend=2.0)  # no tier: the default end-user budget's
    fx.org(db, "org-gold", "gold", spend=6.0)
    fx.tag(db, "tag-gold", spend=1.0, budget_id="gold")
    fx.key(db, "k-tier", spend=2.0, budget_id="gold")  # no own duration: reset with its tier
    fx.key(db, "k-own", spend=2.0, budget_id="gold", budget_duration="7d", budget_reset_at=fx.FUTURE)
    fx.insert(db, "LiteLLM_TeamMembership", user_id="member", team_id="t1", spend=5.0, total_spend=1.0,
              budget_id="gold")
    fx.insert(db, "LiteLLM_ProjectTable", project_id="p-gold", budget_id="gold", spend=1.5, created_by="t",
              updated_by="t")
    fx.insert(db, "LiteLLM_ModelAccessGroupBudgetTable", access_group_name="g-gold", budget_id="gold", spend=0.5)

    result = sync(cli, "--end-user-budget", "gold")
    assert result.code == 0, result
    cascaded = {(c["entity"], c["id"]) for c in result.json()["changes"] if c["action"] == "cascade"}
    assert cascaded == {("end_user", "eu-gold"), ("end_user", "eu-default"), ("org", "org-gold"),
                        ("tag", "tag-gold"), ("key", "k-tier"), ("team_member", "member"),
                        ("project", "p-gold"), ("model_access_group", "g-gold")}
    assert db.value('SELECT sum(spend) FROM "LiteLLM_EndUserTable" WHERE user_id <> %s', ("eu-silver",)) == 0
    assert fx.spend(db, "LiteLLM_EndUserTable", "user_id", "eu-silver") == 3.0
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k-own") == 2.0
    assert db.query('SELECT spend, total_spend FROM "LiteLLM_TeamMembership"') == [{"spend": 0, "total_spend": 5.0}]
    assert fx.reset_at(db, "LiteLLM_BudgetTable", "budget_id", "gold") == TOMORROW
    assert fx.reset_at(db, "LiteLLM_BudgetTable", "budget_id", "silver") == fx.FUTURE


def test_null_reset_at_gets_one_and_keeps_spend(cli, db: Database) -> None:
    fx.key(db, "k", spend=5.0, budget_duration="1d")
    fx.user(db, "u", spend=6.0, budget_duration="1d")
    fx.team(db, "t", spend=7.0, budget_duration="7d")
    fx.tier(db, "b", budget_duration="1mo")
    fx.end_user(db, "eu", spend=8.0, budget_id="b")

    result = sync(cli)
    assert result.code == 0, result
    payload = result.json()
    assert payload["summary"]["init"] == 4 and payload["summary"]["reset"] == 0
    assert all(c["action"] == "init" and set(c["changes"]) == {"budget_reset_at"} for c in payload["changes"])
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k") == 5.0
    assert fx.spend(db, "LiteLLM_UserTable", "user_id", "u") == 6.0
    assert fx.spend(db, "LiteLLM_EndUserTable", "user_id", "eu") == 8.0  # a tier without a window: no cascade
    assert fx.reset_at(db, "LiteLLM_TeamTable", "team_id", "t") == MONDAY
    assert fx.reset_at(db, "LiteLLM_BudgetTable", "budget_id", "b") == NEXT_MONTH


def test_rollover_carries_the_overage(cli, db: Database) -> None:
    fx.key(db, "over", spend=13.0, max_budget=10.0, budget_duration="1d", budget_reset_at=fx.PAST)
    fx.key(db, "under", spend=4.0, max_budget=10.0, budget_duration="1d", budget_reset_at=fx.PAST)
    fx.key(db, "unlimited", spend=4.0, budget_duration="1d", budget_reset_at=fx.PAST)
    fx.tier(db, "b", max_budget=2.0, budget_duration="1d", budget_reset_at=fx.PAST)
    fx.end_user(db, "eu", spend=5.0, budget_id="b")

    assert sync(cli, "--rollover").code == 0
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "over") == 3.0
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "under") == 0
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "unlimited") == 0
    assert fx.spend(db, "LiteLLM_EndUserTable", "user_id", "eu") == 3.0


@pytest.mark.parametrize(("zone", "reset_time", "now", "duration", "expected"), [
    # Berlin: the night clocks spring forward, the day is 23 hours
    ("Europe/Berlin", "00:00", "2026-03-28T23:30:00Z", "1d", datetime(2026, 3, 29, 22, 0)),
    # a reset time inside the gap lands at the gap's end
    ("Europe/Berlin", "02:30", "2026-03-28T12:00:00Z", "1d", datetime(2026, 3, 29, 1, 30)),
    # New York falls back: a 25-hour day
    ("America/New_York", "00:00", "2026-11-01T04:00:00Z", "1d", datetime(2026, 11, 2, 5, 0)),
    ("Asia/Kolkata", "09:30", "2026-06-10T12:00:00Z", "1w", datetime(2026, 6, 15, 4, 0)),
    ("Pacific/Chatham", "00:00", "2026-06-10T12:00:00Z", "1mo", datetime(2026, 6, 30, 11, 15)),
])
def test_timezone_and_dst(cli, db: Database, zone: str, reset_time: str, now: str, duration: str,
                          expected: datetime) -> None:
    fx.team(db, "t", spend=1.0, budget_duration=duration, budget_reset_at=datetime(2026, 1, 1))
    result = cli("budget", "sync", "--now", now, "--timezone", zone, "--reset-time", reset_time, "-q")
    assert result.code == 0, result
    assert fx.reset_at(db, "LiteLLM_TeamTable", "team_id", "t") == expected


def test_budget_limits_windows_move_and_their_spend_rows_roll(cli, db: Database) -> None:
    """A due budget_limits window gets its next reset_at and its LiteLLM_BudgetWindowSpend row starts
    the new window (rollover: with the overage); windows not due, sliding ones (no reset_at) and
    rows a proxy already rolled stay; a bad reset_at is said and left."""
    limits = [{"budget_duration": "1d", "max_budget": 2.0, "reset_at": "2026-06-10T00:00:00+00:00"},
              {"budget_duration": "7d", "max_budget": 50.0, "reset_at": "2026-06-15T00:00:00+00:00"},
              {"budget_duration": "1h", "max_budget": 1.0}]
    fx.key(db, "k-win", budget_limits=Jsonb(limits))
    fx.team(db, "t-win", budget_limits=Jsonb([{"budget_duration": "1d", "max_budget": 2.0,
                                               "reset_at": "2026-06-09T00:00:00Z"}]))
    fx.team(db, "t-bad", budget_limits=Jsonb([{"budget_duration": "1d", "reset_at": "soon"}]))
    for entity, ident, duration, start, spend in (("key", "k-win", "1d", datetime(2026, 6, 9), 3.0),
                                                  ("key", "k-win", "7d", datetime(2026, 6, 8), 9.0),
                                                  ("team", "t-win", "1d", datetime(2026, 6, 10), 0.5)):
        fx.insert(db, "LiteLLM_BudgetWindowSpend", entity_type=entity, entity_id=ident, window_duration=duration,
                  window_start=start, spend=spend, updated_at=start)

    dry = sync(cli, "--dry-run", "--rollover")
    assert dry.code == 3, dry
    assert db.value("""SELECT budget_limits FROM "LiteLLM_VerificationToken" WHERE token = 'k-win'""") == limits

    result = sync(cli, "--rollover")
    assert result.code == 0, result
    changed = {(c["entity"], c["id"]): c["changes"] for c in result.json()["changes"]}
    assert changed[("key", "k-win")] == {
        "budget_limits[1d].reset_at": {"old": "2026-06-10T00:00:00+00:00", "new": "2026-06-11T00:00:00+00:00"},
        "budget_limits[1d].spend": {"old": 3.0, "new": 1.0}}
    # t-win's row already starts the new window (a proxy rolled it): only reset_at moves
    assert changed[("team", "t-win")] == {
        "budget_limits[1d].reset_at": {"old": "2026-06-09T00:00:00Z", "new": "2026-06-11T00:00:00+00:00"}}
    assert [s["id"] for s in result.json()["skipped"]] == ["t-bad"]
    stored = db.value("""SELECT budget_limits FROM "LiteLLM_VerificationToken" WHERE token = 'k-win'""")
    assert [w.get("reset_at") for w in stored] == ["2026-06-11T00:00:00+00:00", "2026-06-15T00:00:00+00:00", None]
    rows = db.query("""SELECT window_duration, window_start, spend FROM "LiteLLM_BudgetWindowSpend"
                      WHERE entity_id = 'k-win' ORDER BY window_duration""")
    assert [(r["window_duration"], r["window_start"], r["spend"]) for r in rows] == [
        ("1d", datetime(2026, 6, 10), 1.0), ("7d", datetime(2026, 6, 8), 9.0)]
    assert sync(cli, "--check").code == 0  # nothing due any more


def test_dry_run_and_check_change_nothing(cli, db: Database) -> None:
    fx.key(db, "k", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
    dry = cli("budget", "sync", "--now", NOW, "--dry-run")
    assert dry.code == 3, dry
    assert "would change" in dry.stdout and "k" in dry.stdout
    check = cli("budget", "sync", "--now", NOW, "--check")
    assert check.code == 3 and "spend" not in check.stdout
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k") == 5.0
    assert fx.reset_at(db, "LiteLLM_VerificationToken", "token", "k") == fx.PAST
    quiet = cli("budget", "sync", "--now", NOW, "--check", "-q")
    assert quiet.code == 3 and quiet.stdout == "" and "would change" in quiet.stderr


def test_an_unusable_duration_is_left_alone_and_said(cli, db: Database) -> None:
    fx.key(db, "zero", spend=5.0, budget_duration="0d", budget_reset_at=fx.PAST)
    fx.key(db, "months", spend=5.0, budget_duration="2mo", budget_reset_at=fx.PAST)
    result = sync(cli)
    assert result.code == 0
    assert {s["id"] for s in result.json()["skipped"]} == {"zero", "months"}
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "zero") == 5.0


def test_bad_options_exit_2(cli, db: Database) -> None:
    assert cli("budget", "sync", "--timezone", "Mars/Olympus").code == 2
    assert cli("budget", "sync", "--reset-time", "25:00").code == 2
    assert cli("budget", "sync", "--now", "yesterday").code == 2


@pytest.mark.slow
def test_increments_during_the_reset_survive(cli, db: Database) -> None:
    """A writer keeps adding 1 to every due key while the sync runs: none of its increments is lost."""
    tokens = [f"k{i:03d}" for i in range(200)]
    db.execute('INSERT INTO "LiteLLM_VerificationToken" (token, spend, budget_duration, budget_reset_at) '
               "SELECT t, 100, '1d', %s FROM unnest(%s::text[]) AS t", (fx.PAST, tokens))
    committed = dict.fromkeys(tokens, 0)
    stop = threading.Event()

    def writer() -> None:
        with psycopg.connect(db.url, autocommit=True) as conn:
            while not stop.is_set():
                for token in tokens[::7]:
                    conn.execute('UPDATE "LiteLLM_VerificationToken" SET spend = spend + 1 WHERE token = %s', (token,))
                    committed[token] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.2)
        result = sync(cli)
    finally:
        time.sleep(0.1)
        stop.set()
        thread.join()
    assert result.code == 0, result
    read = {c["id"]: c["changes"]["spend"]["old"] for c in result.json()["changes"]}
    assert set(read) == set(tokens)
    for token in tokens:
        assert fx.spend(db, "LiteLLM_VerificationToken", "token", token) == 100.0 + committed[token] - read[token]
    assert any(committed[t] > read[t] - 100.0 for t in tokens[::7]), "the writer ran during and after the sync"


def test_a_proxy_reset_in_between_is_not_repeated(cli, db: Database) -> None:
    """LiteLLM's job resets a key while the sync waits for its row: the sync leaves that window alone."""
    fx.key(db, "k", spend=50.0, budget_duration="1d", budget_reset_at=fx.PAST)
    fx.key(db, "other", spend=50.0, budget_duration="1d", budget_reset_at=fx.PAST)
    with psycopg.connect(db.url) as proxy:
        proxy.execute('UPDATE "LiteLLM_VerificationToken" SET spend = spend - 50, budget_reset_at = %s '
                      "WHERE token = 'k'", (TOMORROW,))
        outcome: dict[str, object] = {}
        thread = threading.Thread(target=lambda: outcome.setdefault("result", sync(cli)))
        thread.start()
        time.sleep(0.5)
        proxy.execute('UPDATE "LiteLLM_VerificationToken" SET spend = spend + 3 WHERE token = %s', ("k",))
        proxy.commit()
        thread.join()
    result = outcome["result"]
    assert result.code == 0, result
    assert {c["id"] for c in result.json()["changes"]} == {"other"}
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k") == 3.0


def test_two_concurrent_syncs_reset_each_window_once(db: Database) -> None:
    tokens = [f"k{i:04d}" for i in range(300)]
    with db.connect() as conn:
        conn.execute('INSERT INTO "LiteLLM_VerificationToken" (token, spend, budget_duration, budget_reset_at) '
                     "SELECT t, 10, '1d', %s FROM unnest(%s::text[]) AS t", (fx.PAST, tokens))
        conn.execute('INSERT INTO "LiteLLM_UserTable" (user_id, spend, budget_duration, budget_reset_at) '
                     "SELECT t, 10, '1d', %s FROM unnest(%s::text[]) AS t", (fx.PAST, tokens))
    args = ["--database-url", db.url, "budget", "sync", "--now", NOW, "--json", "--lock-timeout", "60"]
    results: list = [None, None]
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, run_process(args))) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    counts = sorted(json.loads(r.stdout)["summary"]["reset"] for r in results)
    assert counts == [0, 600]
    assert db.value('SELECT count(*) FROM "LiteLLM_VerificationToken" WHERE spend <> 0') == 0
    assert db.value('SELECT count(*) FROM "LiteLLM_UserTable" WHERE budget_reset_at <> %s', (TOMORROW,)) == 0


def test_lock_busy_exits_5(cli, db: Database) -> None:
    from litellm_dbctl.db import database

    with psycopg.connect(db.url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (database.family_key("budget"),))
        result = cli("budget", "sync", "--lock-timeout", "0.3")
    assert result.code == 5, result
    assert "budget sync" in result.stderr


@pytest.mark.slow  # waits out a lock timeout of seconds on purpose
def test_a_row_lock_held_by_a_proxy_is_reported_and_exit_5(cli, db: Database) -> None:
    fx.user(db, "u-due", spend=7.0, budget_duration="7d", budget_reset_at=fx.PAST)
    with psycopg.connect(db.url, application_name="litellm-proxy-test") as proxy:
        pid = proxy.execute("SELECT pg_backend_pid()").fetchone()[0]
        proxy.execute("""SELECT * FROM "LiteLLM_UserTable" WHERE user_id = 'u-due' FOR UPDATE""")
        started = time.monotonic()
        result = cli("budget", "sync", "--now", NOW, "--lock-timeout", "3")
        waited = time.monotonic() - started
        proxy.rollback()
    assert result.code == 5, result
    assert f"pid {pid} (litellm-proxy-test)" in result.stderr, result.stderr
    assert "waiting for a row lock on LiteLLM_UserTable held by" in result.stderr
    assert 2.5 < waited < 8, waited
    assert fx.spend(db, "LiteLLM_UserTable", "user_id", "u-due") == 7.0
    assert sync(cli).code == 0  # once the proxy let go
    assert fx.spend(db, "LiteLLM_UserTable", "user_id", "u-due") == 0


def test_a_due_window_closes_before_the_file_changes_its_duration(cli, db: Database, tmp_path) -> None:
    fx.key(db, "kd", spend=50.0, max_budget=40.0, budget_duration="1d", budget_reset_at=datetime(2026, 6, 9))
    spec = tmp_path / "budgets.yaml"
    spec.write_text("keys:\n  - alias: kd\n    budget_duration: 7d\n")
    result = sync(cli, str(spec))
    assert result.code == 0, result
    actions = [c["action"] for c in result.json()["changes"] if c["id"] == "kd"]
    assert actions == ["reset", "limits"]
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "kd") == 0.0  # not carried into the new window
    assert db.value("""SELECT budget_duration FROM "LiteLLM_VerificationToken" WHERE token = 'kd'""") == "7d"
    assert fx.reset_at(db, "LiteLLM_VerificationToken", "token", "kd") == MONDAY


@pytest.mark.parametrize("extra", [["--repair-spend"], ["FILE"]])
def test_a_dry_run_plans_exactly_what_the_run_then_does(cli, db: Database, tmp_path, extra: list[str]) -> None:
    fx.key(db, "k1", spend=10.0, max_budget=100.0, budget_duration="1d", budget_reset_at=datetime(2026, 6, 9))
    for request, (day, hour, amount) in enumerate([(8, 12, 3.0), (9, 12, 4.0), (10, 1, 2.0)]):
        fx.spend_log(db, f"r{request}", datetime(2026, 6, day, hour), amount, api_key="k1")
    spec = tmp_path / "budgets.yaml"
    spec.write_text("keys:\n  - key_alias: k1\n    budget_duration: 7d\n    max_budget: 50\n")
    args = [str(spec) if a == "FILE" else a for a in extra]

    def plan(result) -> list:
        return [(c["id"], c["action"], c["changes"]) for c in result.json()["changes"]]

    planned = sync(cli, "--dry-run", *args)
    assert planned.code == 3, planned
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k1") == 10.0  # rolled back
    done = sync(cli, *args)
    assert done.code == 0, done
    assert plan(planned) == plan(done)
    if extra == ["--repair-spend"]:  # reset to 0, then the window's own logs (2 since 06-10 00:00)
        assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k1") == 2.0
