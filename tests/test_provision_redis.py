"""Provisioning's Redis invalidation (the machine's Redis, see fix_redis).

What it deletes: the changed objects' cached copies (a team's also under its old and new alias),
never a spend counter, which holds increments the proxies have not flushed to the database yet.

When it fails after the commit, the changes stand and a re-run finds nothing to redo, so the output
is the operator's only record: the result (with a created raw key, shown once ever) comes first,
then one error line naming the objects proxies may serve stale, exit 1.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fix_provision import write
from fix_redis import PASSWORD, REDIS, Subscriber, needs_redis, plain
from helpers import Database, killed_after_commit

from litellm_dbctl.cache import invalidate as cache

pytestmark = needs_redis

# Updates team t1 and user alice, adds alice to t1 and creates a key: three cached objects and a raw key.
SPEC = """\
teams:
  - team_id: t1
    max_budget: 50
users:
  - user_id: alice
    user_alias: Alice
    teams: [t1]
keys:
  - key_alias: ci-bot
    user_id: alice
    team_id: t1
"""
STALE = {("team", "t1", None), ("user", "alice", None), ("team_member", "alice", "t1")}


@pytest.fixture
def spec(cli, tmp_path) -> str:
    assert cli("team", "provision", "--team-id", "t1").code == 0
    assert cli("user", "provision", "--user-id", "alice").code == 0
    return write(tmp_path, SPEC)


def assert_committed(db: Database, raw_key: str) -> None:
    assert db.value("""SELECT user_alias FROM "LiteLLM_UserTable" WHERE user_id = 'alice'""") == "Alice"
    assert db.value("""SELECT max_budget FROM "LiteLLM_TeamTable" WHERE team_id = 't1'""") == 50
    assert db.value("""SELECT count(*) FROM "LiteLLM_TeamMembership" WHERE user_id = 'alice'""") == 1
    token = hashlib.sha256(raw_key.encode()).hexdigest()
    assert db.value("""SELECT key_alias FROM "LiteLLM_VerificationToken" WHERE token = %s""", [token]) == "ci-bot"


def test_text_output_shows_the_result_and_the_new_key_then_the_stale_objects(
        cli, db: Database, spec: str, namespace: str, redis_without) -> None:
    with plain() as redis:
        redis.set(f"{namespace}:alice", "{}")
    url = redis_without("publish")  # DEL works, PUBLISH is refused: Redis failing part-way
    result = cli("provision", "apply", spec, "--redis-url", url, "--redis-namespace", namespace)
    assert result.code == 1, result
    key_lines = [line for line in result.stdout.splitlines() if line.startswith("ci-bot\t")]
    assert len(key_lines) == 1, result
    raw_key = key_lines[0].split("\t")[1]
    assert raw_key.startswith("sk-") and result.stdout.count(raw_key) == 1 and raw_key not in result.stderr
    assert "created 2, updated 2" in result.stdout  # the summary line, as on success
    error = [line for line in result.stderr.splitlines() if line.startswith("dbctl: error:")]
    assert len(error) == 1, result
    assert "committed" in error[0] and "NOPERM" in error[0] and "3 object(s)" in error[0] and "60 s" in error[0]
    assert "team t1" in error[0] and "user alice" in error[0] and "team_member alice in t1" in error[0]
    assert "Traceback" not in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert_committed(db, raw_key)
    with plain() as redis:
        assert redis.get(f"{namespace}:alice") is None  # what Redis did before failing stands


def test_json_output_gains_the_redis_error_and_the_stale_objects(
        cli, db: Database, spec: str, namespace: str, redis_without) -> None:
    url = redis_without("publish")
    result = cli("provision", "apply", spec, "--redis-url", url, "--redis-namespace", namespace, "--json")
    assert result.code == 1, result
    payload = result.json()
    assert list(payload) == ["dry_run", "summary", "items", "chunks", "rows_written", "keys", "created", "cache",
                            "redis"]
    assert payload["summary"]["create"] == 2 and payload["summary"]["update"] == 2
    [key] = payload["keys"]
    assert key["key_alias"] == "ci-bot" and result.stdout.count(key["key"]) == 1
    assert key["token"] == hashlib.sha256(key["key"].encode()).hexdigest()
    assert payload["cache"] is None
    assert "NOPERM" in payload["redis"]["error"]
    assert {(s["entity"], s["id"], s["team_id"]) for s in payload["redis"]["stale"]} == STALE
    assert "committed" in result.stderr and "3 object(s)" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert_committed(db, key["key"])


def test_a_run_killed_after_its_commit_leaves_its_invalidations_to_the_next_run(
        cli, db: Database, spec: str, namespace: str) -> None:
    cached = ["alice", "team_id:t1"]
    with plain() as redis:
        for key in cached:
            redis.set(f"{namespace}:{key}", "{}")
    killed_after_commit(["--database-url", db.url, "provision", "apply", spec, "--redis-url", REDIS,
                         "--redis-namespace", namespace])
    assert db.value("""SELECT user_alias FROM "LiteLLM_UserTable" WHERE user_id = 'alice'""") == "Alice"  # committed
    rows = db.query("""SELECT counters, refs FROM dbctl_pending_invalidations ORDER BY id""")
    assert [r["counters"] for r in rows] == [False]  # cached objects only: never a spend counter
    assert {(kind, id_, team) for kind, id_, team, _ in rows[0]["refs"]} == STALE
    with plain() as redis:
        assert redis.get(f"{namespace}:alice") == "{}"  # still stale: the kill came first
    subscriber = Subscriber(f"{namespace}:{cache.CHANNEL}")
    try:
        again = cli("provision", "apply", spec, "--redis-url", REDIS, "--redis-namespace", namespace)
    finally:
        time.sleep(0.3)  # let the last messages arrive
        subscriber.close()
    assert again.code == 0, again
    assert "0 changed" in again.stdout  # nothing to redo in the database: only the owed invalidations
    assert set(cached) <= {m["cache_key"] for m in subscriber.messages}
    with plain() as redis:
        assert [redis.get(f"{namespace}:{key}") for key in cached] == [None, None]
    assert db.value("""SELECT count(*) FROM dbctl_pending_invalidations""") == 0


def test_a_remove_member_killed_after_its_commit_leaves_its_invalidations_to_the_next_run(
        cli, db: Database, spec: str, namespace: str) -> None:
    assert cli("provision", "apply", spec).code == 0
    cached = ["alice", "team_id:t1", "t1_alice", "team_membership:alice:t1"]
    with plain() as redis:
        for key in cached:
            redis.set(f"{namespace}:{key}", "{}")
    killed_after_commit(["--database-url", db.url, "team", "remove-member", "t1", "alice", "--redis-url", REDIS,
                         "--redis-namespace", namespace])
    assert db.value("""SELECT count(*) FROM "LiteLLM_TeamMembership" WHERE user_id = 'alice'""") == 0  # committed
    rows = db.query("""SELECT command, counters, refs FROM dbctl_pending_invalidations ORDER BY id""")
    assert [(r["command"], r["counters"]) for r in rows] == [("team remove-member", False)]
    assert {(kind, id_, team) for kind, id_, team, _ in rows[0]["refs"]} == STALE
    again = cli("team", "remove-member", "t1", "alice", "--redis-url", REDIS, "--redis-namespace", namespace)
    assert again.code == 0, again  # nothing left to remove: only the owed invalidations
    with plain() as redis:
        assert [redis.get(f"{namespace}:{key}") for key in cached] == [None] * len(cached)
    assert db.value("""SELECT count(*) FROM dbctl_pending_invalidations""") == 0


def test_a_redis_failure_after_the_commit_is_finished_by_the_next_run(
        cli, db: Database, spec: str, namespace: str, redis_without) -> None:
    failed = cli("provision", "apply", spec, "--redis-url", redis_without("publish"), "--redis-namespace", namespace)
    assert failed.code == 1, failed
    assert db.value("""SELECT count(*) FROM dbctl_pending_invalidations""") == 1
    with plain() as redis:
        redis.set(f"{namespace}:alice", "{}")
    again = cli("provision", "apply", spec, "--redis-url", REDIS, "--redis-namespace", namespace)
    assert again.code == 0, again
    with plain() as redis:
        assert redis.get(f"{namespace}:alice") is None
    assert db.value("""SELECT count(*) FROM dbctl_pending_invalidations""") == 0


def test_a_successful_run_leaves_nothing_owed(cli, db: Database, spec: str, namespace: str) -> None:
    assert cli("provision", "apply", spec, "--redis-url", REDIS, "--redis-namespace", namespace).code == 0
    assert db.value("""SELECT count(*) FROM dbctl_pending_invalidations""") == 0


def test_a_working_redis_leaves_the_json_redis_member_null(cli, spec: str, namespace: str) -> None:
    result = cli("provision", "apply", spec, "--redis-url", REDIS, "--redis-namespace", namespace, "--json")
    assert result.code == 0, result
    assert result.json()["redis"] is None
    assert result.json()["cache"]["objects"] == len(STALE)


def test_an_unreachable_redis_after_a_single_object_change_is_exit_1_even_with_q(cli, db: Database) -> None:
    assert cli("team", "provision", "--team-id", "t1").code == 0
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"redis://admin:{PASSWORD}@127.0.0.1:{port}"
    result = cli("team", "provision", "--team-id", "t1", "--max-budget", "5", "--redis-url", url, "-q")
    assert result.code == 1, result
    assert result.stdout == ""
    assert re.search(r"dbctl: error: changes are committed, .*cannot connect to Redis.*: team t1$", result.stderr,
                     re.MULTILINE), result
    assert PASSWORD not in result.stderr
    assert db.value("""SELECT max_budget FROM "LiteLLM_TeamTable" WHERE team_id = 't1'""") == 5


@pytest.fixture
def resetting_redis() -> Iterator[str]:
    """A Redis URL whose server reads the first command (AUTH) and resets the connection: a network
    failure mid-reply, which the client sees as an OSError, not as a Redis error reply."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(30)

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        conn.recv(65536)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"redis://:{PASSWORD}@127.0.0.1:{server.getsockname()[1]}"
    thread.join(timeout=30)
    server.close()


def test_a_connection_reset_mid_reply_does_not_hide_the_result(cli, db: Database, spec: str,
                                                               resetting_redis: str) -> None:
    result = cli("provision", "apply", spec, "--redis-url", resetting_redis, "--json")
    assert result.code == 1, result
    payload = result.json()
    assert payload["keys"][0]["key"].startswith("sk-")
    assert "reset" in payload["redis"]["error"].lower()
    assert "Traceback" not in result.stderr and "committed" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert_committed(db, payload["keys"][0]["key"])


def test_key_block_reports_the_change_before_the_redis_failure(cli, db: Database, spec: str, redis_without) -> None:
    assert cli("provision", "apply", spec).code == 0
    result = cli("key", "block", "ci-bot", "--redis-url", redis_without("publish"), "--json")
    assert result.code == 1, result
    payload = result.json()
    assert payload["action"] == "blocked"
    assert [s["entity"] for s in payload["redis"]["stale"]] == ["key"]
    assert "committed" in result.stderr and "key " in result.stderr
    assert db.value("""SELECT blocked FROM "LiteLLM_VerificationToken" WHERE key_alias = 'ci-bot'""") is True


def test_a_malformed_redis_url_is_exit_2_before_anything_is_written(cli, db: Database, spec: str) -> None:
    result = cli("provision", "apply", spec, "--redis-url", f"redis://admin:{PASSWORD}/x@127.0.0.1:6379")
    assert result.code == 2, result
    assert "--redis-url" in result.stderr and PASSWORD not in result.stdout + result.stderr
    assert db.value("""SELECT user_alias FROM "LiteLLM_UserTable" WHERE user_id = 'alice'""") is None


# -- what a successful invalidation deletes ---------------------------------------------------------

SETUP = """\
organizations:
  - organization_id: acme
    organization_alias: Acme
teams:
  - team_id: research
    team_alias: research-old
    organization_id: acme
users:
  - user_id: ada
    teams: [research]
    organizations: [acme]
keys:
  - key_alias: ada-key
    user_id: ada
    team_id: research
"""
# Renames the team and changes every object SETUP made: the org, the team, the user, the key.
CHANGE = """\
organizations:
  - organization_id: acme
    organization_alias: Acme
    max_budget: 1000
teams:
  - team_id: research
    team_alias: research-new
    max_budget: 50
users:
  - user_id: ada
    user_alias: Ada
keys:
  - key_alias: ada-key
    max_budget: 5
"""
END = "end-of-test"  # published last: every message before it has arrived


def counters(token: str) -> set[str]:
    """The spend counters of SETUP's objects: proxies' increments not yet in the database."""
    return {"spend:team:research", "spend:team:research:window:1d", "spend:user:ada", "spend:org:acme",
            "spend:team_member:ada:research", f"spend:key:{token}", f"spend:key:{token}:window:1d"}


@pytest.fixture
def token(cli, db: Database, tmp_path) -> str:
    """SETUP applied; the key's token hash."""
    assert cli("provision", "apply", write(tmp_path, SETUP, "setup.yaml")).code == 0
    return db.value("""SELECT token FROM "LiteLLM_VerificationToken" WHERE key_alias = 'ada-key'""")


def cached(namespace: str, keys: set[str]) -> None:
    with plain() as redis:
        for key in keys:
            redis.set(f"{namespace}:{key}", "1")


def surviving(namespace: str, keys: set[str]) -> set[str]:
    with plain() as redis:
        return {key for key in keys if redis.exists(f"{namespace}:{key}")}


@contextmanager
def published(namespace: str) -> Iterator[list[str]]:
    """The cache keys published on the proxies' invalidation channel while the block runs."""
    channel = f"{namespace}:{cache.CHANNEL}"
    keys: list[str] = []
    with plain() as redis, redis.pubsub() as listener:
        listener.subscribe(channel)
        assert listener.get_message(timeout=10)["type"] == "subscribe"
        yield keys
        redis.publish(channel, json.dumps({"cache_key": END}))
        while (key := json.loads(listener.get_message(timeout=10)["data"])["cache_key"]) != END:
            keys.append(key)


def test_provisioning_keeps_the_spend_counters_and_drops_the_team_under_both_aliases(
        cli, tmp_path, token: str, namespace: str) -> None:
    changed = {"team_id:research", "team_alias:research-old", "team_alias:research-new", "ada", token}
    kept = counters(token) | {"research_ada", "team_membership:ada:research",  # the membership did not change
                              "team_alias:other", "untouched"}
    cached(namespace, changed | kept)
    with published(namespace) as messages:
        result = cli("provision", "apply", write(tmp_path, CHANGE), "--redis-url", REDIS,
                     "--redis-namespace", namespace, "--json")
    assert result.code == 0, result
    assert result.json()["summary"]["update"] == 4, result
    assert surviving(namespace, changed | kept) == kept
    assert sorted(messages) == sorted(changed), messages


def test_team_and_org_member_changes_keep_the_spend_counters(cli, token: str, namespace: str) -> None:
    dropped = {"team_id:research", "team_alias:research-old", "ada", "research_ada", "team_membership:ada:research"}
    cached(namespace, dropped | counters(token))
    with published(namespace) as messages:
        removed = cli("team", "remove-member", "research", "ada", "--redis-url", REDIS, "--redis-namespace", namespace)
        left = cli("org", "remove-member", "acme", "ada", "--redis-url", REDIS, "--redis-namespace", namespace)
    assert removed.code == 0 and left.code == 0, (removed, left)
    assert surviving(namespace, dropped | counters(token)) == counters(token)
    assert sorted(messages) == sorted([*dropped, "ada"]), messages  # org remove-member: the user again

    cached(namespace, dropped)
    with published(namespace) as messages:
        added = cli("team", "add-member", "research-old", "ada", "--redis-url", REDIS, "--redis-namespace", namespace)
    assert added.code == 0, added
    assert surviving(namespace, dropped | counters(token)) == counters(token)
    assert sorted(messages) == sorted(dropped), messages


@pytest.mark.parametrize("action", ["block", "delete"])
def test_key_changes_keep_the_key_spend_counters(cli, token: str, namespace: str, action: str) -> None:
    cached(namespace, {token} | counters(token))
    with published(namespace) as messages:
        result = cli("key", action, "ada-key", "--redis-url", REDIS, "--redis-namespace", namespace)
    assert result.code == 0, result
    assert surviving(namespace, {token} | counters(token)) == counters(token)
    assert messages == [token]


def test_a_team_provision_rename_drops_the_old_and_the_new_alias(cli, token: str, namespace: str) -> None:
    keys = {"team_id:research", "team_alias:research-old", "team_alias:renamed", "spend:team:research"}
    cached(namespace, keys)
    with published(namespace) as messages:
        result = cli("team", "provision", "--team-id", "research", "--alias", "renamed", "--redis-url", REDIS,
                     "--redis-namespace", namespace)
    assert result.code == 0, result
    assert surviving(namespace, keys) == {"spend:team:research"}
    assert sorted(messages) == ["team_alias:renamed", "team_alias:research-old", "team_id:research"]


def test_a_batched_rename_counts_the_team_once(cli, db: Database, tmp_path, namespace: str) -> None:
    """Chunk 1 renames the team, later chunks add members to it: one team to drop, under both aliases."""
    assert cli("team", "provision", "--team-id", "t9", "--alias", "before").code == 0
    users = "".join(f"  - user_id: b{i}\n    teams: [t9]\n" for i in range(12))
    path = write(tmp_path, "teams:\n  - team_id: t9\n    team_alias: after\nusers:\n" + users)
    cached(namespace, {"team_alias:before", "team_alias:after"})
    result = cli("provision", "apply", path, "--batch-size", "5", "--redis-url", REDIS, "--redis-namespace", namespace)
    assert result.code == 0, result
    assert "invalidated 13 cached object(s)" in result.stderr, result.stderr  # the team and its 12 new members
    assert surviving(namespace, {"team_alias:before", "team_alias:after"}) == set()


@pytest.fixture
def garbling_redis() -> Iterator[str]:
    """A Redis URL whose server answers every command with a malformed integer reply."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(30)

    def serve() -> None:
        try:
            conn, _ = server.accept()
            while conn.recv(65536):
                conn.sendall(b":not-a-number\r\n")
        except OSError:
            return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    thread.join(timeout=30)


def test_a_malformed_redis_reply_does_not_hide_the_result(cli, db: Database, spec: str, garbling_redis: str) -> None:
    result = cli("provision", "apply", spec, "--redis-url", garbling_redis)
    assert result.code == 1, result
    raw = next(line for line in result.stdout.splitlines() if "sk-" in line)
    assert "unexpected reply" in result.stderr and "Traceback" not in result.stderr, result
    assert_committed(db, re.search(r"sk-\S+", raw)[0])
