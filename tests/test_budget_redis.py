"""`budget sync --redis-url`: live proxies see the reset at once (the machine's Redis, see fix_redis)."""

from __future__ import annotations

import time

import fix_budget as fx
from fix_redis import PASSWORD, REDIS, Subscriber, needs_redis, plain
from helpers import Database

from litellm_dbctl.cache import invalidate as cache

NOW = "2026-06-10T12:00:00Z"

pytestmark = needs_redis


def test_reset_deletes_counters_and_publishes(cli, db: Database, namespace: str) -> None:
    fx.key(db, "tok", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
    fx.team(db, "team", team_alias="Team A", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
    fx.user(db, "quiet", spend=5.0, budget_duration="1d", budget_reset_at=fx.FUTURE)
    with plain() as redis:
        for key in ("spend:key:tok", "spend:key:tok:window:1d", "tok", "spend:team:team",
                    "spend:team:team:window:7d", "team_id:team", "team_alias:Team A", "spend:user:quiet"):
            redis.set(f"{namespace}:{key}", "5")
    subscriber = Subscriber(f"{namespace}:{cache.CHANNEL}")
    try:
        result = cli("budget", "sync", "--now", NOW, "--redis-url", REDIS, "--redis-namespace", namespace, "--json")
    finally:
        time.sleep(0.3)  # let the last messages arrive
        subscriber.close()
    assert result.code == 0, result
    assert result.json()["redis"]["deleted"] == 7
    assert result.json()["redis"]["receivers"] >= 1
    seen = {m["cache_key"] for m in subscriber.messages}
    assert {"spend:key:tok", "spend:key:tok:window:1d", "tok", "spend:team:team", "team_id:team",
            "team_alias:Team A"} <= seen  # LiteLLM also caches a team by its alias
    with plain() as redis:
        assert list(redis.scan_iter(f"{namespace}:spend:key:tok*")) == []
        assert redis.get(f"{namespace}:spend:user:quiet") == "5"  # not reset: untouched
        assert redis.get(f"{namespace}:cronjob_lock:reset_budget_job") is None  # lease released
    assert not any("no --redis-url" in w for w in result.json()["warnings"])


def test_without_redis_the_stale_enforcement_is_said(cli, db: Database) -> None:
    fx.key(db, "tok", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
    result = cli("budget", "sync", "--now", NOW)
    assert result.code == 0
    assert "no --redis-url" in result.stderr and "60 s" in result.stderr


def test_a_proxy_holding_the_reset_lease_exits_5(cli, db: Database, namespace: str) -> None:
    fx.key(db, "tok", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
    lease = f"{namespace}:cronjob_lock:reset_budget_job"
    with plain() as redis:
        redis.set(lease, "pod-123", ex=60)
    result = cli("budget", "sync", "--now", NOW, "--redis-url", REDIS, "--redis-namespace", namespace,
                 "--lock-timeout", "0.3")
    assert result.code == 5, result
    assert "pod-123" in result.stderr
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "tok") == 5.0
    with plain() as redis:
        assert redis.get(lease) == "pod-123"  # never released someone else's lease


def test_limit_changes_drop_cached_objects_but_keep_counters(cli, db: Database, namespace: str, tmp_path) -> None:
    fx.user(db, "alice", max_budget=1.0)
    with plain() as redis:
        redis.set(f"{namespace}:alice", "{}")
        redis.set(f"{namespace}:spend:user:alice", "0.5")
    spec = tmp_path / "budgets.yaml"
    spec.write_text("users:\n  - id: alice\n    max_budget: 2\n")
    result = cli("budget", "sync", str(spec), "--redis-url", REDIS, "--redis-namespace", namespace)
    assert result.code == 0, result
    with plain() as redis:
        assert redis.get(f"{namespace}:alice") is None
        assert redis.get(f"{namespace}:spend:user:alice") == "0.5"


def test_redis_failing_after_the_commit_reports_the_result_and_the_stale_entities(
        cli, db: Database, namespace: str, redis_without) -> None:
    fx.key(db, "tok", key_alias="ci-bot", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
    fx.user(db, "alice", spend=3.0, budget_duration="1d", budget_reset_at=fx.PAST)
    url = redis_without("publish")
    result = cli("budget", "sync", "--now", NOW, "--redis-url", url, "--redis-namespace", namespace, "--json")
    assert result.code == 1, result
    payload = result.json()  # the committed result is printed, not lost behind the error
    assert payload["summary"]["reset"] == 2
    assert payload["redis"]["error"]
    assert {(s["entity"], s["id"]) for s in payload["redis"]["stale"]} == {("key", "tok"), ("user", "alice")}
    assert "committed" in result.stderr and "2 entities" in result.stderr and "user alice" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "tok") == 0.0  # the reset stands
    with plain() as redis:
        assert redis.get(f"{namespace}:cronjob_lock:reset_budget_job") is None  # lease released


def test_a_lease_redis_cannot_release_is_a_warning(cli, db: Database, namespace: str, redis_without) -> None:
    fx.key(db, "tok", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
    url = redis_without("eval")  # SET NX takes the lease; the compare-and-delete script is refused
    result = cli("budget", "sync", "--now", NOW, "--redis-url", url, "--redis-namespace", namespace, "--json")
    assert result.code == 0, result
    assert any("reset-job lease" in w and "30 s" in w for w in result.json()["warnings"])
    assert result.json()["redis"]["deleted"] >= 0
