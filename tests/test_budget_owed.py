"""`budget sync --redis-url`: the invalidations a run owes survive it (issue 17 item 4).

They are written in the resets' transaction (dbctl_pending_invalidations), deleted once Redis has
them, and finished by the next run when a run dies after its COMMIT; LiteLLM's reset lease is held
with a short TTL the run renews, so a dead run blocks the proxies' resets for seconds.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import fix_budget as fx
import pytest
from fix_redis import REDIS, Subscriber, needs_redis, plain
from helpers import Database, invoke, killed_after_commit
from psycopg.conninfo import conninfo_to_dict

from litellm_dbctl.budget import sync as budget_sync
from litellm_dbctl.cache import invalidate as cache

NOW = "2026-06-10T12:00:00Z"
LEASE = "cronjob_lock:reset_budget_job"

pytestmark = needs_redis


def owed_rows(db: Database) -> list[dict]:
    return db.query("""SELECT command, counters, refs FROM dbctl_pending_invalidations ORDER BY id""")


def due(db: Database, namespace: str) -> list[str]:
    """A key and a team due for a reset, with the Redis copies a proxy keeps of them."""
    fx.key(db, "tok", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
    fx.team(db, "team", team_alias="Team A", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
    keys = ["spend:key:tok", "spend:key:tok:window:1d", "tok", "spend:team:team", "team_id:team", "team_alias:Team A"]
    with plain() as redis:
        for key in keys:
            redis.set(f"{namespace}:{key}", "5")
    return keys


def test_a_run_killed_after_its_commit_leaves_its_invalidations_to_the_next_run(
        cli, db: Database, namespace: str) -> None:
    keys = due(db, namespace)
    def lease_is_short() -> None:
        with plain() as redis:
            assert 0 < redis.ttl(f"{namespace}:{LEASE}") <= budget_sync.LEASE_TTL_SECONDS

    killed_after_commit(["--database-url", db.url, "budget", "sync", "--now", NOW, "--redis-url", REDIS,
                         "--redis-namespace", namespace], while_paused=lease_is_short)
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "tok") == 0.0  # committed
    rows = owed_rows(db)
    assert [(r["command"], r["counters"]) for r in rows] == [("budget sync", True)]
    assert {(kind, id_) for kind, id_, _, _ in rows[0]["refs"]} == {("key", "tok"), ("team", "team")}
    with plain() as redis:
        assert redis.get(f"{namespace}:spend:key:tok") == "5"  # still stale: the kill came first
        ttl = redis.ttl(f"{namespace}:{LEASE}")
        assert 0 < ttl <= budget_sync.LEASE_TTL_SECONDS  # the dead run blocks the proxies for seconds
        redis.delete(f"{namespace}:{LEASE}")  # ... and then it expires: not waited for here
    subscriber = Subscriber(f"{namespace}:{cache.CHANNEL}")
    try:
        again = cli("budget", "sync", "--now", NOW, "--redis-url", REDIS, "--redis-namespace", namespace, "--json")
    finally:
        time.sleep(0.3)  # let the last messages arrive
        subscriber.close()
    assert again.code == 0, again
    payload = again.json()
    assert payload["summary"]["reset"] == 0  # nothing left to reset: only the owed invalidations
    assert payload["redis"]["earlier"]["deleted"] == len(keys)
    assert set(keys) <= {m["cache_key"] for m in subscriber.messages}
    with plain() as redis:
        assert list(redis.scan_iter(f"{namespace}:*")) == []
    assert owed_rows(db) == []


def test_finish_invalidations_does_only_that(cli, db: Database, namespace: str, redis_without) -> None:
    keys = due(db, namespace)
    failed = cli("budget", "sync", "--now", NOW, "--redis-url", redis_without("publish"),
                 "--redis-namespace", namespace)
    assert failed.code == 1, failed
    assert "--finish-invalidations" in failed.stderr
    assert len(owed_rows(db)) == 1  # Redis failed: they stay recorded
    fx.user(db, "later", spend=3.0, budget_duration="1d", budget_reset_at=fx.PAST)
    subscriber = Subscriber(f"{namespace}:{cache.CHANNEL}")
    try:
        done = cli("budget", "sync", "--finish-invalidations", "--now", NOW, "--redis-url", REDIS,
                   "--redis-namespace", namespace, "--json")
    finally:
        time.sleep(0.3)
        subscriber.close()
    assert done.code == 0, done
    # the failed run's DELs went through (only PUBLISH was refused): its window counter is gone, so
    # the one SCAN finds it no more; every other key is deleted and published again
    objects_and_counters = set(keys) - {"spend:key:tok:window:1d"}
    assert done.json()["redis"]["earlier"]["published"] == len(objects_and_counters)
    assert objects_and_counters <= {m["cache_key"] for m in subscriber.messages}
    assert owed_rows(db) == []
    assert fx.spend(db, "LiteLLM_UserTable", "user_id", "later") == 3.0  # no reset: only the invalidations
    with plain() as redis:
        assert redis.get(f"{namespace}:{LEASE}") is None


def test_finish_invalidations_needs_redis(cli, db: Database) -> None:
    result = cli("budget", "sync", "--finish-invalidations")
    assert result.code == 2, result
    assert "--redis-url" in result.stderr


@pytest.mark.slow
def test_a_clean_run_leaves_nothing_owed_and_migrate_diff_ignores_the_table(cli, db: Database, namespace: str) -> None:
    due(db, namespace)
    result = cli("budget", "sync", "--now", NOW, "--redis-url", REDIS, "--redis-namespace", namespace)
    assert result.code == 0, result
    assert owed_rows(db) == []
    diff = cli("migrate", "diff")
    assert diff.code == 0, diff
    assert "dbctl_pending_invalidations" not in diff.stdout + diff.stderr, diff


class CutAtCommit:
    """A TCP proxy to PostgreSQL that forwards a session's COMMIT to the server and then drops the
    client's connection without its answer: the commit happens, dbctl never hears of it. After the
    cut it forwards new sessions (`refuse_after=False`) or refuses them (the server unreachable)."""

    COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"  # the simple-query message psycopg sends to end a transaction

    def __init__(self, server: tuple[str, int] | str, *, refuse_after: bool) -> None:
        self.server = server
        self.refuse_after = refuse_after
        self.cut = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut.is_set() and self.refuse_after:
                client.close()
                continue
            if isinstance(self.server, str):  # the embedded server listens on a unix socket
                upstream = socket.socket(socket.AF_UNIX)
                upstream.connect(self.server)
            else:
                upstream = socket.create_connection(self.server)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        try:
            while data := source.recv(65536):
                if from_client and not self.cut.is_set() and self.COMMIT in data:
                    sink.sendall(data)
                    self.cut.set()
                    source.shutdown(socket.SHUT_RDWR)  # the client's side goes at once, unanswered
                    source.close()
                    time.sleep(0.5)  # the server reads the COMMIT before it sees the end
                    sink.close()
                    return
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.close()

    def close(self) -> None:
        self.listener.close()


def through(proxy: CutAtCommit, db: Database) -> str:
    return f"postgresql://postgres@127.0.0.1:{proxy.port}/{db.name}?sslmode=disable&gssencmode=disable"


def _server(db: Database) -> tuple[str, int] | str:
    """Where the test's server listens: a TCP address, or a unix socket's path (the embedded one)."""
    params = conninfo_to_dict(db.url)
    host, port = str(params.get("host") or "127.0.0.1"), int(params.get("port") or 5432)
    return f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port)


def test_a_connection_lost_at_commit_reports_the_commit_the_server_confirms(db: Database) -> None:
    fx.key(db, "tok", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
    proxy = CutAtCommit(_server(db), refuse_after=False)
    try:
        result = invoke(["--database-url", through(proxy, db), "budget", "sync", "--now", NOW])
    finally:
        proxy.close()
    assert proxy.cut.is_set()
    assert result.code == 1, result
    assert "committed: check with `budget status`" in result.stderr
    assert "may have" not in result.stderr
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "tok") == 0.0


def test_a_connection_lost_at_commit_with_the_server_gone_says_it_may_have_committed(db: Database) -> None:
    fx.key(db, "tok", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
    proxy = CutAtCommit(_server(db), refuse_after=True)
    try:
        result = invoke(["--database-url", through(proxy, db), "budget", "sync", "--now", NOW])
    finally:
        proxy.close()
    assert result.code == 1, result
    assert "may have committed" in result.stderr and "check with `budget status`" in result.stderr


def test_a_lost_commit_still_in_progress_is_waited_for(db: Database) -> None:
    """The server got the COMMIT but is still flushing it (a busy server): the status read then says
    'in progress', and the answer waits for the outcome instead of saying it cannot tell."""
    from psycopg import connect

    from litellm_dbctl.db import config

    with connect(db.url) as slow:
        xid = str(slow.execute("SELECT pg_current_xact_id()").fetchone()[0])
        committer = threading.Timer(0.5, slow.commit)
        committer.start()
        error = budget_sync._commit_unknown(config.parse(db.url, "test"), xid, Exception("lost"), record=False)
        committer.join()
    assert "; committed: check with `budget status`" in error.message, error.message
