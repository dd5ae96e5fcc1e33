"""`dbctl budget reset`: one entity's spend reset now, as LiteLLM's /key/{key}/reset_spend resets a key's, for
keys, users, teams, organizations and end users; budget_limits windows restarted; audit rows; Redis counters
dropped; a dry run changing nothing."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timedelta

import fix_budget as fx
import psycopg
import pytest
from fix_redis import REDIS, Subscriber, needs_redis, plain
from helpers import Database

from litellm_dbctl.cache import invalidate as cache

RAW = "sk-reset-me-please-000000000042"
TOKEN = hashlib.sha256(RAW.encode()).hexdigest()


def spends(db: Database) -> dict[str, float]:
    return {
        "key": fx.spend(db, "LiteLLM_VerificationToken", "token", TOKEN),
        "user": fx.spend(db, "LiteLLM_UserTable", "user_id", "ada"),
        "team": fx.spend(db, "LiteLLM_TeamTable", "team_id", "t1"),
        "org": fx.spend(db, "LiteLLM_OrganizationTable", "organization_id", "acme"),
        "end_user": fx.spend(db, "LiteLLM_EndUserTable", "user_id", "cust-1"),
    }


@pytest.fixture
def spent(db: Database) -> Database:
    fx.tier(db, "org-tier", max_budget=100.0, budget_duration="30d", budget_reset_at=fx.FUTURE)
    fx.org(db, "acme", "org-tier", organization_alias="Acme", spend=12.0)
    fx.team(db, "t1", team_alias="Research", organization_id="acme", spend=7.0, max_budget=10.0,
            budget_duration="1d", budget_reset_at=fx.FUTURE)
    fx.user(db, "ada", user_email="ada@example.com", spend=3.0, budget_duration="7d", budget_reset_at=fx.PAST)
    fx.key(db, TOKEN, key_alias="ci-bot", spend=9.5, max_budget=10.0, budget_duration="30d",
           budget_reset_at=fx.FUTURE)
    fx.end_user(db, "cust-1", alias="customer-one", spend=4.0)
    return db


def test_each_kind_by_its_usual_names(cli, spent: Database) -> None:
    before_reset_at = fx.reset_at(spent, "LiteLLM_VerificationToken", "token", TOKEN)
    result = cli("budget", "reset", "--key", RAW, "--user", "ada@example.com", "--team", "Research",
                 "--org", "Acme", "--end-user", "customer-one", "--json")
    assert result.code == 0, result
    assert RAW not in result.stdout + result.stderr
    assert spends(spent) == dict.fromkeys(("key", "user", "team", "org", "end_user"), 0.0)
    body = result.json()
    assert [(r["entity"], r["id"]) for r in body["resets"]] == [
        ("key", TOKEN), ("user", "ada"), ("team", "t1"), ("org", "acme"), ("end_user", "cust-1")]
    assert body["resets"][0]["changes"]["spend"] == {"old": 9.5, "new": 0.0}
    # a running window keeps its boundary, as /key/{key}/reset_spend leaves it
    assert fx.reset_at(spent, "LiteLLM_VerificationToken", "token", TOKEN) == before_reset_at
    # a due one moves to the next boundary (7d: next Monday, UTC midnight)
    moved = fx.reset_at(spent, "LiteLLM_UserTable", "user_id", "ada")
    assert moved > datetime.utcnow() and moved.weekday() == 0 and (moved.hour, moved.minute) == (0, 0)
    assert "budget_reset_at" in body["resets"][1]["changes"]
    assert fx.reset_at(spent, "LiteLLM_BudgetTable", "budget_id", "org-tier") == fx.FUTURE  # a shared tier: alone
    audits = spent.query('SELECT * FROM "LiteLLM_AuditLog" ORDER BY table_name')
    assert {(a["action"], a["table_name"], a["object_id"], a["changed_by"]) for a in audits} == {
        ("updated", "LiteLLM_VerificationToken", TOKEN, "dbctl"), ("updated", "LiteLLM_UserTable", "ada", "dbctl"),
        ("updated", "LiteLLM_TeamTable", "t1", "dbctl"), ("updated", "LiteLLM_OrganizationTable", "acme", "dbctl"),
        ("updated", "LiteLLM_EndUserTable", "cust-1", "dbctl")}
    key_audit = next(a for a in audits if a["object_id"] == TOKEN)
    assert (key_audit["before_value"], key_audit["updated_values"]) == ({"spend": 9.5}, {"spend": 0.0})


def test_again_changes_nothing_and_writes_no_audit(cli, spent: Database) -> None:
    assert cli("budget", "reset", "--team", "t1", "--actor", "ops").code == 0
    again = cli("budget", "reset", "--team", "t1", "--actor", "ops")
    assert again.code == 0 and "1 already reset" in again.stdout
    assert spent.value('SELECT count(*) FROM "LiteLLM_AuditLog"') == 1
    assert spent.value('SELECT changed_by FROM "LiteLLM_AuditLog"') == "ops"
    assert cli("budget", "reset", "--user", "ada", "--no-audit").code == 0
    assert spent.value('SELECT count(*) FROM "LiteLLM_AuditLog"') == 1


def test_dry_run_changes_nothing_and_exits_3(cli, spent: Database) -> None:
    before = spends(spent)
    result = cli("budget", "reset", "--key", "ci-bot", "--user", "ada", "--dry-run")
    assert result.code == 3, result
    assert "would reset 2 entities" in result.stdout
    assert spends(spent) == before
    assert fx.reset_at(spent, "LiteLLM_UserTable", "user_id", "ada") == fx.PAST
    assert spent.value('SELECT count(*) FROM "LiteLLM_AuditLog"') == 0
    quiet = cli("-q", "budget", "reset", "--key", "ci-bot", "--dry-run")
    assert (quiet.code, quiet.stdout) == (3, "") and "would reset 1 entity: key " in quiet.stderr


def test_budget_limits_windows_restart_from_now(cli, spent: Database) -> None:
    windows = [{"budget_duration": "1d", "max_budget": 1.0, "reset_at": "2999-01-01T00:00:00+00:00"},
               {"budget_duration": "7d", "max_budget": 5.0, "reset_at": None}]
    spent.execute('UPDATE "LiteLLM_VerificationToken" SET budget_limits = %s WHERE token = %s',
                  (json.dumps(windows), TOKEN))
    spent.execute('INSERT INTO "LiteLLM_BudgetWindowSpend" (entity_type, entity_id, window_duration, window_start, '
                  "spend, updated_at) VALUES ('key', %s, '1d', now() - interval '3 hours', 0.9, now())", (TOKEN,))
    started = datetime.utcnow()
    result = cli("budget", "reset", "--key", "ci-bot", "--json")
    assert result.code == 0, result
    stored = spent.value('SELECT budget_limits FROM "LiteLLM_VerificationToken" WHERE token = %s', (TOKEN,))
    for window, seconds in zip(stored, (86400, 7 * 86400)):
        reset_at = datetime.fromisoformat(window["reset_at"]).replace(tzinfo=None)
        assert abs(reset_at - (started + timedelta(seconds=seconds))) < timedelta(minutes=1)
    row = spent.query('SELECT * FROM "LiteLLM_BudgetWindowSpend"')[0]
    assert row["spend"] == 0 and abs(row["window_start"] - started) < timedelta(minutes=1)
    changes = result.json()["resets"][0]["changes"]
    assert changes["budget_limits[1d].spend"] == {"old": 0.9, "new": 0.0}


def test_bad_input_exits_2_naming_it(cli, spent: Database) -> None:
    nothing = cli("budget", "reset")
    assert nothing.code == 2 and "--key" in nothing.stderr
    unknown = cli("budget", "reset", "--team", "Reserch")
    assert unknown.code == 2 and "no team 'Reserch'" in unknown.stderr and "'Research'" in unknown.stderr
    ghost = cli("budget", "reset", "--end-user", "cust-9")
    assert ghost.code == 2 and "no end user 'cust-9'" in ghost.stderr
    assert cli("budget", "reset", "--user", "a\x00b").code == 2
    assert cli("budget", "reset", "--user", "ada", "--timezone", "Mars/Base").code == 2
    assert spends(spent)["user"] == 3.0


def test_a_held_budget_lock_is_exit_5_and_changes_nothing(cli, spent: Database) -> None:
    from litellm_dbctl.db import database

    with psycopg.connect(spent.url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (database.family_key("budget"),))
        result = cli("budget", "reset", "--team", "t1", "--lock-timeout", "0.3s")
    assert result.code == 5, result
    assert "budget reset" in result.stderr and spends(spent)["team"] == 7.0


@needs_redis
def test_redis_counters_and_cached_objects_go(cli, spent: Database, namespace: str) -> None:
    with plain() as redis:
        for name in (f"spend:key:{TOKEN}", f"spend:key:{TOKEN}:window:1d", TOKEN, "spend:team:t1", "team_id:t1",
                     "team_alias:Research", "spend:user:other"):
            redis.set(f"{namespace}:{name}", "5")
    subscriber = Subscriber(f"{namespace}:{cache.CHANNEL}")
    try:
        result = cli("budget", "reset", "--key", "ci-bot", "--team", "t1", "--redis-url", REDIS,
                     "--redis-namespace", namespace, "--json")
    finally:
        time.sleep(0.3)
        subscriber.close()
    assert result.code == 0, result
    assert result.json()["redis"]["deleted"] == 6
    seen = {m["cache_key"] for m in subscriber.messages}
    assert {f"spend:key:{TOKEN}", f"spend:key:{TOKEN}:window:1d", "spend:team:t1", "team_alias:Research"} <= seen
    with plain() as redis:
        assert redis.get(f"{namespace}:spend:user:other") == "5"
        assert list(redis.scan_iter(f"{namespace}:spend:key:*")) == []
    assert spent.value("SELECT count(*) FROM dbctl_pending_invalidations") == 0  # recorded, then done


@needs_redis
def test_redis_failing_after_the_commit_leaves_the_counters_owed_to_budget_sync(
        cli, spent: Database, namespace: str, redis_without) -> None:
    url = redis_without("publish")
    with plain() as redis:
        redis.set(f"{namespace}:spend:team:t1", "7")
    result = cli("budget", "reset", "--team", "t1", "--redis-url", url, "--redis-namespace", namespace)
    assert result.code == 1 and spends(spent)["team"] == 0.0
    assert "team t1" in result.stderr and "s3cret" not in result.stderr
    assert spent.value("SELECT count(*) FROM dbctl_pending_invalidations") == 1
    synced = cli("budget", "sync", "--redis-url", REDIS, "--redis-namespace", namespace, "--json")
    assert synced.code == 0, synced
    assert synced.json()["redis"]["earlier"]["published"] >= 3  # the team's counter, object and alias
    assert spent.value("SELECT count(*) FROM dbctl_pending_invalidations") == 0
    with plain() as redis:
        assert redis.get(f"{namespace}:spend:team:t1") is None
