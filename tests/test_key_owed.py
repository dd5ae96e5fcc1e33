"""`key block|unblock|delete --redis-url`: the invalidation a change owes survives the run (issue 17).

It is written in the change's own transaction (dbctl_pending_invalidations, as provisioning and budget
sync write theirs), deleted once Redis has it, and finished by the next run with a Redis URL (a key
command, provisioning, budget sync) when the run dies between its COMMIT and Redis, or Redis fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fix_provision import write
from fix_redis import REDIS, needs_redis, plain
from helpers import Database, killed_after_commit

from litellm_dbctl.cache import invalidate as cache

pytestmark = needs_redis

END = "end-of-test"  # published last: every message before it has arrived


@pytest.fixture
def tokens(cli, db: Database) -> dict[str, str]:
    """Keys k1 (blocked) and k2 of user admin: alias -> token hash."""
    assert cli("user", "provision", "--user-id", "admin").code == 0
    for alias in ("k1", "k2"):
        assert cli("key", "create", "--user", "admin", "--alias", alias).code == 0
    assert cli("key", "block", "k1").code == 0
    return {r["key_alias"]: r["token"] for r in db.query('SELECT key_alias, token FROM "LiteLLM_VerificationToken"')}


def owed_rows(db: Database) -> list[dict]:
    if db.value("SELECT to_regclass('dbctl_pending_invalidations')") is None:
        return []
    return db.query("""SELECT command, counters, refs FROM dbctl_pending_invalidations ORDER BY id""")


@contextmanager
def published(namespace: str) -> Iterator[list[str]]:
    """The cache keys published on the proxies' invalidation channel meanwhile."""
    channel = f"{namespace}:{cache.CHANNEL}"
    keys: list[str] = []
    with plain() as redis, redis.pubsub() as listener:
        listener.subscribe(channel)
        assert listener.get_message(timeout=10)["type"] == "subscribe"
        yield keys
        redis.publish(channel, json.dumps({"cache_key": END}))
        while (key := json.loads(listener.get_message(timeout=10)["data"])["cache_key"]) != END:
            keys.append(key)


def cache_copy(namespace: str, token: str) -> str | None:
    with plain() as redis:
        return redis.get(f"{namespace}:{token}")


def kill_after_commit(db: Database, namespace: str, tokens: dict[str, str], action: str, alias: str) -> str:
    """`key ACTION ALIAS --redis-url` killed between its COMMIT and Redis; the proxies' copy of the
    key is still cached then, and the change is recorded as owed. The key's token."""
    token = tokens[alias]
    with plain() as redis:
        redis.set(f"{namespace}:{token}", "{}")
    killed_after_commit(["--database-url", db.url, "key", action, alias, "--redis-url", REDIS,
                         "--redis-namespace", namespace])
    rows = owed_rows(db)
    assert [(r["command"], r["counters"]) for r in rows] == [(f"key {action}", False)]  # never a spend counter
    assert [tuple(ref[:2]) for ref in rows[0]["refs"]] == [("key", token)]
    assert cache_copy(namespace, token) == "{}"  # still stale: the kill came first
    return token


@pytest.mark.parametrize(("action", "alias", "rerun"), [
    ("block", "k2", ["key", "block", "k2"]),  # the same command again: nothing to change, the owed part done
    ("unblock", "k1", ["key", "block", "k2"]),
    ("delete", "k2", ["key", "unblock", "k1"]),
])
def test_a_key_command_killed_after_its_commit_is_finished_by_the_next_key_command(
        cli, db: Database, tokens: dict[str, str], namespace: str, action: str, alias: str, rerun: list[str]) -> None:
    token = kill_after_commit(db, namespace, tokens, action, alias)
    committed = db.value("""SELECT blocked FROM "LiteLLM_VerificationToken" WHERE key_alias = %s""", [alias])
    assert committed is {"block": True, "unblock": False, "delete": None}[action]
    with published(namespace) as messages:
        again = cli(*rerun, "--redis-url", REDIS, "--redis-namespace", namespace)
    assert again.code == 0, again
    assert token in messages  # every proxy worker was told to drop its copy
    assert cache_copy(namespace, token) is None
    assert owed_rows(db) == []


@pytest.mark.parametrize("rerun", [
    ["budget", "sync", "--finish-invalidations"],
    ["provision", "apply", "SPEC"],
    ["team", "provision", "--team-id", "t1"],
])
def test_every_run_that_finishes_owed_invalidations_finishes_a_key_commands(
        cli, db: Database, tokens: dict[str, str], namespace: str, tmp_path, rerun: list[str]) -> None:
    token = kill_after_commit(db, namespace, tokens, "block", "k2")
    spec = write(tmp_path, "users:\n  - user_id: admin\n")
    with published(namespace) as messages:
        again = cli(*[spec if arg == "SPEC" else arg for arg in rerun], "--redis-url", REDIS,
                    "--redis-namespace", namespace)
    assert again.code == 0, again
    assert token in messages and cache_copy(namespace, token) is None
    assert owed_rows(db) == []


def test_a_redis_failure_after_the_commit_stays_owed_until_the_next_run(
        cli, db: Database, tokens: dict[str, str], namespace: str, redis_without) -> None:
    failed = cli("key", "delete", "k2", "--redis-url", redis_without("publish"), "--redis-namespace", namespace)
    assert failed.code == 1, failed
    assert "committed" in failed.stderr and "Traceback" not in failed.stderr
    assert [r["command"] for r in owed_rows(db)] == ["key delete"]
    with published(namespace) as messages:
        again = cli("key", "block", "k1", "--redis-url", REDIS, "--redis-namespace", namespace)
    assert again.code == 0, again
    assert messages == [tokens["k2"]]  # the owed one; k1 was blocked already: nothing of its own to tell
    assert owed_rows(db) == []


def test_a_successful_run_leaves_nothing_owed(cli, db: Database, tokens: dict[str, str], namespace: str) -> None:
    with published(namespace) as messages:
        result = cli("key", "unblock", "k1", "--redis-url", REDIS, "--redis-namespace", namespace)
    assert result.code == 0, result
    assert messages == [tokens["k1"]]
    assert db.value("SELECT to_regclass('dbctl_pending_invalidations')") is not None and owed_rows(db) == []


@pytest.mark.parametrize("args", [("block", "k2"), ("unblock", "k1"), ("delete", "k2"), ("block", "k2", "--dry-run")])
def test_without_redis_or_in_a_dry_run_nothing_is_owed(cli, db: Database, tokens: dict[str, str],
                                                        args: tuple[str, ...]) -> None:
    result = cli("key", *args)
    assert result.code == (3 if "--dry-run" in args else 0), result
    assert db.value("SELECT to_regclass('dbctl_pending_invalidations')") is None  # not even the table


def test_a_dry_run_with_redis_records_nothing(cli, db: Database, tokens: dict[str, str], namespace: str) -> None:
    result = cli("key", "block", "k2", "--dry-run", "--redis-url", REDIS, "--redis-namespace", namespace)
    assert result.code == 3, result
    assert owed_rows(db) == []


def test_two_runs_creating_the_owed_table_at_once_both_go_on(db: Database) -> None:
    """A key command and a budget sync hold different locks: both may create dbctl's table at the
    same moment. The loser's CREATE ... IF NOT EXISTS fails on the catalog's unique index when the
    winner commits; that failure means the table is there, and the loser's transaction goes on."""
    import threading

    import psycopg

    from litellm_dbctl.cache import owed

    winner = psycopg.connect(db.url)
    winner.execute("SELECT 1")  # open its transaction: prepare's block is then a savepoint in it
    owed.prepare(winner)  # inside winner's open transaction: not committed yet
    outcome: list[object] = []

    def loser() -> None:
        with psycopg.connect(db.url) as conn, conn.transaction():
            owed.prepare(conn)  # waits for the winner, then loses the race
            outcome.append(conn.execute("SELECT count(*) FROM dbctl_pending_invalidations").fetchone())

    thread = threading.Thread(target=loser)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # blocked behind the winner's uncommitted CREATE
    winner.commit()
    winner.close()
    thread.join(10)
    assert outcome == [(0,)]
