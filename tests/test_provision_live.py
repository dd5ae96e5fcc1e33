"""Provisioning beside live proxies: two processes at once, Redis invalidation, a large spec."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid

import pytest
from fix_provision import fingerprint, write
from fix_redis import plain
from helpers import run_process

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_two_processes_provisioning_the_same_user(db, tmp_path) -> None:
    spec = write(tmp_path, "teams:\n  - team_id: t1\nusers:\n  - user_email: Same@Example.com\n"
                           "    user_alias: same\n    teams: [t1:admin]\n")
    results: list = [None, None]

    def provision(index: int) -> None:
        results[index] = run_process(["--database-url", db.url, "provision", "apply", spec])

    threads = [threading.Thread(target=provision, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.returncode for r in results] == [0, 0], results
    assert db.value('SELECT count(*) FROM "LiteLLM_UserTable"') == 1
    assert db.value('SELECT count(*) FROM "LiteLLM_TeamMembership"') == 1
    assert len(db.value('SELECT members_with_roles FROM "LiteLLM_TeamTable"')) == 1
    assert sorted("0 changed" in r.stdout for r in results) == [False, True]  # one wrote, the other found it done


def test_a_held_provisioning_lock_is_exit_5(cli, db) -> None:
    from litellm_dbctl.db import database
    from litellm_dbctl.provision.plan import FAMILY

    with db.connect() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [database.family_key(FAMILY)])
        result = cli("user", "provision", "--user-id", "u1", "--lock-timeout", "0.3")
    assert result.code == 5, result
    assert db.value('SELECT count(*) FROM "LiteLLM_UserTable"') == 0


@pytest.mark.slow  # waits out a lock timeout of seconds on purpose
def test_a_held_provisioning_lock_is_named_on_stderr_after_two_seconds(cli, db) -> None:
    from litellm_dbctl.db import database
    from litellm_dbctl.provision.plan import FAMILY

    with db.connect(application_name="other-dbctl") as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [database.family_key(FAMILY)])
        result = cli("user", "provision", "--user-id", "u1", "--lock-timeout", "2.5")
    assert result.code == 5, result
    assert "waiting for advisory lock" in result.stderr and "(other-dbctl)" in result.stderr, result.stderr


def _redis_available() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


@pytest.mark.skipif(not _redis_available(), reason="no Redis on 127.0.0.1:6379")
def test_changes_invalidate_the_proxies_cache_in_redis(cli, db) -> None:
    namespace = f"dbctl-test-{uuid.uuid4().hex[:8]}"
    assert cli("team", "provision", "--team-id", "t1").code == 0
    assert cli("user", "provision", "--user-id", "u1").code == 0
    cached = [f"{namespace}:team_id:t1", f"{namespace}:spend:team:t1", f"{namespace}:u1", f"{namespace}:spend:user:u1",
              f"{namespace}:spend:team:t1:window:1d", f"{namespace}:untouched"]
    messages: list[str] = []
    with plain(REDIS_URL) as redis, redis.pubsub() as listener:
        for key in cached:
            redis.set(key, "cached")
        listener.subscribe(f"{namespace}:litellm_proxy.auth_cache_invalidation")
        assert listener.get_message(timeout=5)["type"] == "subscribe"

        expected = {"team_id:t1", "u1", "t1_u1", "team_membership:u1:t1"}
        result = cli("team", "add-member", "t1", "u1", "--role", "admin", "--redis-url", REDIS_URL,
                     "--redis-namespace", namespace)
        assert result.code == 0, result
        assert "invalidated" in result.stderr
        deadline = time.monotonic() + 5  # the messages wait in the subscription; then the assertions say what is missing
        while not expected <= set(messages) and time.monotonic() < deadline:
            reply = listener.get_message(timeout=0.1)
            if reply is not None and reply["type"] == "message":
                messages.append(json.loads(reply["data"])["cache_key"])
        remaining = [key for key in cached if redis.exists(key)]
        redis.delete(*cached)
    assert remaining == [f"{namespace}:spend:team:t1", f"{namespace}:spend:user:u1",  # unflushed spend: kept
                         f"{namespace}:spend:team:t1:window:1d", f"{namespace}:untouched"]
    assert expected <= set(messages) and not any(m.startswith("spend:") for m in messages)


def test_without_redis_it_says_how_long_until_proxies_see_it(cli, db) -> None:
    assert cli("user", "provision", "--user-id", "u1").code == 0
    result = cli("user", "provision", "--user-id", "u1", "--alias", "changed")
    assert result.code == 0 and "within 60 s" in result.stderr


@pytest.mark.slow
def test_ten_thousand_users_in_one_team(cli, db, tmp_path) -> None:
    users = "".join(f"  - user_email: user{i:05d}@example.com\n    user_alias: User {i}\n    teams: [bulk]\n"
                    for i in range(10_000))
    path = write(tmp_path, "teams:\n  - team_id: bulk\n    max_budget: 1000\nusers:\n" + users)
    result = cli("provision", "apply", path, "--no-audit")
    assert result.code == 0, result
    assert "created 20001" in result.stdout
    assert db.value('SELECT count(*) FROM "LiteLLM_UserTable"') == 10_000
    assert db.value('SELECT count(*) FROM "LiteLLM_TeamMembership"') == 10_000
    assert db.value('SELECT jsonb_array_length(members_with_roles) FROM "LiteLLM_TeamTable"') == 10_000
    before = fingerprint(db)
    again = cli("provision", "apply", path, "--no-audit")
    assert again.code == 0 and "0 changed" in again.stdout
    assert fingerprint(db) == before


def test_a_row_a_proxy_changed_after_planning_is_replanned_not_overwritten(cli, db) -> None:
    from litellm_dbctl.db import config, database
    from litellm_dbctl.provision import apply, planner, specs
    from litellm_dbctl.provision.plan import Options

    assert cli("user", "provision", "--user-id", "u1", "--team", "t1", "--dry-run").code == 2  # no such team
    assert cli("team", "provision", "--team-id", "t1").code == 0
    assert cli("user", "provision", "--user-id", "u1").code == 0
    spec = specs.from_records([("users", {"user_id": "u1", "user_alias": "new", "teams": ["t1"]})], "test")
    target = config.parse(db.url, "test")
    with database.connect(target, command="test") as conn, conn.transaction(force_rollback=True):
        plan = planner.make_plan(conn, spec)
        db.execute("""UPDATE "LiteLLM_UserTable" SET spend = spend + 1.5 WHERE user_id = 'u1'""")  # a spend flush
        assert apply.apply_plan(conn, plan, Options()) > 0  # changes nothing the plan compared: no re-plan
    with database.connect(target, command="test") as conn, conn.transaction(force_rollback=True):
        plan = planner.make_plan(conn, spec)
        db.execute("""UPDATE "LiteLLM_UserTable" SET max_budget = 9 WHERE user_id = 'u1'""")  # a field it compared
        with pytest.raises(apply.StalePlan):
            apply.apply_plan(conn, plan, Options())
    outcome = apply.run(target, spec)
    assert outcome.written > 0
    row = db.query("""SELECT * FROM "LiteLLM_UserTable" WHERE user_id = 'u1'""")[0]
    assert (row["user_alias"], row["teams"], row["spend"], row["max_budget"]) == ("new", ["t1"], 1.5, 9)


def _spend_writer(db, stop: threading.Event, flushes: list[int], *, per_second: float = 20, seconds: float = 60) -> None:
    """A proxy's spend flush on every user, team, membership and key: `per_second` increments, until
    `stop` is set or `seconds` have passed (the loop stops itself)."""
    statements = ['UPDATE "LiteLLM_UserTable" SET spend = spend + 0.01',
                  'UPDATE "LiteLLM_TeamTable" SET spend = spend + 0.01',
                  'UPDATE "LiteLLM_TeamMembership" SET spend = spend + 0.01',
                  'UPDATE "LiteLLM_VerificationToken" SET spend = spend + 0.01']
    started = time.monotonic()
    with db.connect(application_name="litellm-proxy-test") as conn:
        while not stop.is_set() and time.monotonic() < started + seconds:
            for statement in statements:
                conn.execute(statement)
            flushes[0] += 1
            stop.wait(max(started + flushes[0] / per_second - time.monotonic(), 0))


def test_provisioning_beside_a_proxy_flushing_spend_twenty_times_a_second(cli, db, tmp_path) -> None:
    def spec(alias: str, budget: int) -> str:
        users = "".join(f"  - user_id: u{n}\n    user_alias: {alias}-{n}\n    teams: [t1, t2]\n" for n in range(300))
        return (f"teams:\n  - team_id: t1\n    max_budget: {budget}\n  - team_id: t2\n    max_budget: {budget}\n"
                f"users:\n{users}keys:\n  - key_alias: k1\n    user_id: u1\n    team_id: t1\n"
                f"    max_budget: {budget}\n")

    assert cli("provision", "apply", write(tmp_path, spec("a", 10), "first.yaml")).code == 0
    stop, flushes = threading.Event(), [0]
    writer = threading.Thread(target=_spend_writer, args=(db, stop, flushes))
    writer.start()
    try:
        while flushes[0] < 5 and writer.is_alive():
            time.sleep(0.05)
        # Each run changes every planned row; without the fix most of them gave up after 5 re-plans.
        results = [cli("provision", "apply", write(tmp_path, spec(f"v{n}", 20 + n), f"v{n}.yaml")) for n in range(6)]
    finally:
        stop.set()
        writer.join()
    assert [r.code for r in results] == [0] * 6, [r.stderr for r in results if r.code]
    assert db.value("""SELECT count(*) FROM "LiteLLM_UserTable" WHERE user_alias LIKE 'v5-%%'""") == 300
    assert db.value("""SELECT max_budget FROM "LiteLLM_VerificationToken" WHERE key_alias = 'k1'""") == 25
    spend = db.value("""SELECT spend FROM "LiteLLM_UserTable" WHERE user_id = 'u1'""")
    assert spend == pytest.approx(0.01 * flushes[0])  # every increment kept: provisioning never wrote spend


@pytest.mark.slow  # waits out a lock timeout of seconds on purpose
def test_a_row_lock_held_by_a_proxy_is_reported_and_exit_5(cli, db, tmp_path) -> None:
    assert cli("user", "provision", "--user-id", "u1").code == 0
    spec = write(tmp_path, "users:\n  - user_id: u1\n    user_alias: changed\n")
    with db.connect(application_name="litellm-proxy-test") as proxy, proxy.transaction():
        pid = proxy.execute("""SELECT pg_backend_pid()""").fetchone()["pg_backend_pid"]
        proxy.execute("""SELECT * FROM "LiteLLM_UserTable" WHERE user_id = 'u1' FOR UPDATE""")
        started = time.monotonic()
        result = cli("provision", "apply", spec, "--lock-timeout", "3")
        waited = time.monotonic() - started
    assert result.code == 5, result
    assert f"pid {pid} (litellm-proxy-test)" in result.stderr, result.stderr
    assert "waiting for a row lock on LiteLLM_UserTable held by" in result.stderr
    assert "gave up after 3 s" in result.stderr
    assert 2.5 < waited < 8, waited
    assert db.value("""SELECT user_alias FROM "LiteLLM_UserTable" WHERE user_id = 'u1'""") is None
    assert cli("provision", "apply", spec).code == 0  # once the proxy let go
