"""The database layer: session settings, read-only transactions, advisory locks and retry."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from litellm_dbctl.common.errors import LockBusy, OperationalError
from litellm_dbctl.db import config, database, sqlfiles


def test_connection_carries_application_name_and_lock_timeout(db) -> None:
    target = config.parse(db.url, "test")
    with database.connect(target, command="budget sync", lock_timeout="1500ms") as conn:
        row = conn.execute("SELECT current_setting('application_name') AS app, current_setting('lock_timeout') AS lt").fetchone()
    assert row == {"app": "dbctl budget sync", "lt": "1500ms"}


def test_timeouts_come_from_the_environment(db, monkeypatch) -> None:
    monkeypatch.setenv("DBCTL_LOCK_TIMEOUT", "750ms")
    monkeypatch.setenv("DBCTL_STATEMENT_TIMEOUT", "9s")
    with database.connect(config.parse(db.url, "test"), command="x") as conn:
        row = conn.execute("SELECT current_setting('lock_timeout') AS lt, current_setting('statement_timeout') AS st").fetchone()
    assert row == {"lt": "750ms", "st": "9s"}


def test_pgbouncer_mode_uses_set_and_no_prepared_statements(db) -> None:
    url = db.url + ("&" if "?" in db.url else "?") + "pgbouncer=true&schema=public"
    target = config.parse(url, "DATABASE_URL")
    with database.connect(target, command="x", lock_timeout="2s") as conn:
        assert conn.prepare_threshold is None
        row = conn.execute("SELECT current_setting('lock_timeout') AS lt, current_setting('search_path') AS sp").fetchone()
    assert row["lt"] == "2s" and "public" in row["sp"]


def test_schema_parameter_sets_the_search_path(db) -> None:
    db.execute("CREATE SCHEMA tenant_b")
    db.execute("CREATE TABLE tenant_b._prisma_migrations (id text)")
    url = db.url + ("&" if "?" in db.url else "?") + "schema=tenant_b"
    with database.connect(config.parse(url, "x"), command="x") as conn:
        assert conn.execute("SELECT current_schema() AS s").fetchone()["s"] == "tenant_b"


def test_read_only_connections_refuse_writes(db) -> None:
    with database.connect(config.parse(db.url, "x"), command="x", read_only=True) as conn, \
         pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute('UPDATE "LiteLLM_UserTable" SET spend = 0')


def test_advisory_lock_times_out_naming_the_holder(db) -> None:
    target = config.parse(db.url, "x")
    key = database.family_key("test")
    with database.connect(target, command="holder job", autocommit=True) as holder, \
         database.connect(target, command="waiter", autocommit=True) as waiter:
        with database.advisory_lock(holder, key, timeout=0, what="holder"):
            started = time.monotonic()
            with pytest.raises(LockBusy) as info, database.advisory_lock(waiter, key, timeout=0.3, what="budget sync"):
                pass
            assert 0.25 < time.monotonic() - started < 3
            assert "dbctl holder job" in info.value.message and info.value.exit_code == 5
        with database.advisory_lock(waiter, key, timeout=0, what="after release"):
            pass


def test_advisory_lock_waits_for_release(db) -> None:
    target = config.parse(db.url, "x")
    key = database.family_key("wait")
    with database.connect(target, command="a", autocommit=True) as a, database.connect(target, command="b", autocommit=True) as b:
        sqlfiles.run(a, "locks/try_session", {"key": key})
        threading.Timer(0.3, lambda: sqlfiles.run(a, "locks/unlock_session", {"key": key})).start()
        with database.advisory_lock(b, key, timeout=5, what="b"):
            assert sqlfiles.run(a, "locks/try_session", {"key": key}) is False


def test_xact_lock_is_released_at_commit(db) -> None:
    target = config.parse(db.url, "x")
    key = database.family_key("xact")
    with database.connect(target, command="a") as a, database.connect(target, command="b", autocommit=True) as b:
        with a.transaction(), database.advisory_lock(a, key, timeout=0, what="a", scope="xact"):
            assert sqlfiles.run(b, "locks/try_xact", {"key": key}) is False
        assert sqlfiles.run(b, "locks/try_session", {"key": key}) is True


def test_family_keys_are_stable_and_distinct() -> None:
    assert database.family_key("budget") == database.family_key("budget")
    assert len({database.family_key(f) for f in ("budget", "daily", "provision", "migrate")}) == 4
    assert -(2**63) <= database.family_key("budget") < 2**63


def test_retry_repeats_a_transaction_that_hit_lock_timeout(db) -> None:
    target = config.parse(db.url, "x")
    db.execute("INSERT INTO \"LiteLLM_UserTable\" (user_id, spend) VALUES ('u1', 1)")
    attempts = []
    with database.connect(target, command="blocker") as blocker, \
         database.connect(target, command="writer", lock_timeout="100ms") as writer:
        blocker.execute("SELECT 1 FROM \"LiteLLM_UserTable\" WHERE user_id = 'u1' FOR UPDATE")
        threading.Timer(0.4, blocker.commit).start()

        def attempt() -> int:
            attempts.append(1)
            with writer.transaction():
                return writer.execute("UPDATE \"LiteLLM_UserTable\" SET spend = spend + 1 WHERE user_id = 'u1'").rowcount

        assert database.retry(attempt, what="increment", attempts=8, base_delay=0.05) == 1
    assert len(attempts) >= 2
    assert db.value("SELECT spend FROM \"LiteLLM_UserTable\" WHERE user_id = 'u1'") == 2


def test_retry_gives_up_with_an_operational_error(db) -> None:
    import psycopg.errors as pe

    def always() -> None:
        raise pe.LockNotAvailable("canceling statement due to lock timeout")

    with pytest.raises(OperationalError, match="after 3 attempts"):
        database.retry(always, what="x", attempts=3, base_delay=0.001)


class _Stale(Exception):
    """A plan that went stale between its read and its write (provisioning's StalePlan, say)."""


def test_retry_replans_with_a_fresh_allowance_for_conflicts() -> None:
    """`replan` is the loop provisioning and budget sync wrap around retry: each plan gets its own
    `attempts` for lock conflicts, and conflicts after a replan count from zero again."""
    import psycopg.errors as pe

    outcomes: list[Exception | None] = [pe.LockNotAvailable("t"), pe.LockNotAvailable("t"), _Stale("moved"),
                                        pe.DeadlockDetected("d"), pe.LockNotAvailable("t"), _Stale("moved"), None]
    seen: list[int] = []

    def attempt() -> str:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return "done"

    assert database.retry(attempt, what="plan", attempts=3, base_delay=0.001, replan=(_Stale,), replans=3,
                          on_retry=lambda exc, n: seen.append(n)) == "done"
    assert seen == [1, 2, 1, 2] and outcomes == []


def test_retry_gives_up_replanning_with_the_callers_error() -> None:
    runs: list[int] = []

    def stale() -> None:
        runs.append(1)
        raise _Stale("a row moved")

    with pytest.raises(OperationalError, match=r"plan: the rows kept changing while dbctl planned \(a row moved\); "
                                               r"gave up after 4 attempts"):
        database.retry(stale, what="plan", replan=(_Stale,), replans=4)
    assert len(runs) == 4
    with pytest.raises(LockBusy, match="still moving"):
        database.retry(stale, what="plan", replan=(_Stale,), replans=2,
                       gave_up=lambda exc: LockBusy(f"still moving: {exc}"))
    with pytest.raises(_Stale):  # not named in `replan`: not retried
        database.retry(stale, what="plan")


def test_poll_tries_until_true_or_the_deadline() -> None:
    tries: list[float] = []

    def third_time() -> bool:
        tries.append(time.monotonic())
        return len(tries) == 3

    assert database.poll(third_time, timeout=5)
    assert len(tries) == 3
    started = time.monotonic()
    assert not database.poll(lambda: False, timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 1.5
    assert database.poll(lambda: True, timeout=0)
    assert not database.poll(lambda: False, timeout=0)


@pytest.mark.parametrize("url", [
    "postgresql:///litellm?host=/var/run/postgresql", "postgresql://u@h1:5432,h2:5433/db",
    "postgresql://u@[::1]:5432,[::1]:5433/db", "postgresql://u@h1,[::1]:5433/db", "postgresql://u@[::1]:6543/db",
    "host=h dbname=d", "service=litellm", "postgresql://u@h/db?host=",
])
def test_every_target_is_described_for_messages(url) -> None:
    """A connection error names where dbctl tried to connect: whatever form the URL took."""
    described = database.describe(config.parse(url, "x"))
    assert described and "://" not in described


@pytest.mark.parametrize(("url", "described"), [
    ("postgresql:///litellm?host=/var/run/postgresql", "/var/run/postgresql:5432/litellm"),
    ("postgresql://u@h1:5432,h2:5433/db", "h1:5432,h2:5433/db"),
    ("postgresql://u@h1,h2/db", "h1:5432,h2:5432/db"),
    ("host=h port=6543 dbname=d", "h:6543/d"),
])
def test_messages_name_each_host_as_libpq_reads_it(url: str, described: str) -> None:
    """A socket directory is its path (not %2F-encoded), and each host keeps its own port."""
    assert database.describe(config.parse(url, "x")) == described
