"""Connections, session settings, transactions, advisory locks and retry.

Every connection carries `application_name = dbctl <command>` so pg_stat_activity and pg_locks say
who holds what, and a short `lock_timeout` so dbctl never queues a live proxy's writes behind it;
statements the caller marks safe are retried with backoff when they hit it. Locks are polled with
`pg_try_advisory_*` up to a deadline, never taken with a blocking call (a blocked
`pg_advisory_lock` deadlocks against CREATE INDEX CONCURRENTLY).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from litellm_dbctl.common.errors import LockBusy, OperationalError
from litellm_dbctl.common.redaction import redact
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.db.config import Target

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("dbctl")
T = TypeVar("T")

DEFAULT_LOCK_TIMEOUT = "5s"  # per statement: how long a DDL/UPDATE may wait on a row or table lock
NOTICE_AFTER = 2.0  # seconds of waiting on a lock before stderr says what dbctl waits for and who holds it


def connect(
    target: Target,
    *,
    command: str,
    lock_timeout: str | None = None,
    statement_timeout: str | None = None,
    autocommit: bool = False,
    read_only: bool = False,
) -> psycopg.Connection[Any]:
    """Open a connection with dbctl's session settings (`session_settings`). Raises
    OperationalError, redacted."""
    # psycopg costs ~110 ms to import: only commands that connect pay it (not --help).
    import psycopg
    from psycopg.rows import dict_row
    from psycopg.types.array import ListBinaryDumper

    settings = session_settings(target, lock_timeout=lock_timeout, statement_timeout=statement_timeout)
    params = connection_parameters(target, command=command, settings={} if target.pgbouncer else settings)
    url = target.url
    if target.embedded_dir is not None:
        # The embedded server's module (subprocess, its package lookup) only when it is the target.
        from litellm_dbctl.db import embedded

        url = embedded.ensure_running(target.embedded_dir).url
    try:
        conn: psycopg.Connection[Any] = psycopg.connect(url, autocommit=autocommit, row_factory=dict_row,
                                                        application_name=params["application_name"],
                                                        options=params.get("options"))
    except psycopg.OperationalError as exc:
        raise OperationalError(f"cannot connect to {describe(target)}: {_first_line(exc)}") from None
    if target.pgbouncer:  # poolers reject startup options: SET them instead
        conn.prepare_threshold = None  # transaction poolers cannot keep server-side statements
        for name, value in settings.items():
            sqlfiles.run(conn, "session/set_config", {"name": name, "value": value.strip('"')})
        if not autocommit:
            conn.commit()
    conn.read_only = read_only
    # Lists (the ids and emails a plan looks up, the keys it locks) go as binary arrays: adapting
    # 10,000 strings that way takes a third of the time of writing a text array literal.
    conn.adapters.register_dumper(list, ListBinaryDumper)
    return conn


def session_settings(target: Target, *, lock_timeout: str | None = None,
                     statement_timeout: str | None = None) -> dict[str, str]:
    """The settings every dbctl session carries: lock_timeout, statement_timeout and the
    `?schema=` search_path. Timeouts not given come from DBCTL_LOCK_TIMEOUT /
    DBCTL_STATEMENT_TIMEOUT (PostgreSQL units, e.g. `2s`, `500ms`); lock_timeout defaults to 5s,
    statement_timeout to none."""
    lock_timeout = lock_timeout or os.environ.get("DBCTL_LOCK_TIMEOUT") or DEFAULT_LOCK_TIMEOUT
    statement_timeout = statement_timeout or os.environ.get("DBCTL_STATEMENT_TIMEOUT")
    settings: dict[str, str] = {}
    if lock_timeout:
        settings["lock_timeout"] = lock_timeout
    if statement_timeout:
        settings["statement_timeout"] = statement_timeout
    if target.schema:
        settings["search_path"] = f'"{target.schema}"'
    return settings


def connection_parameters(target: Target, *, command: str, settings: dict[str, str]) -> dict[str, str]:
    """libpq keywords beside the URL: `application_name = dbctl <command>`, and `settings` as
    startup options (empty behind a pooler, which rejects them)."""
    params = {"application_name": f"dbctl {command}"[:63]}
    if settings:
        params["options"] = " ".join(f"-c {k}={_escape_option(v)}" for k, v in settings.items())
    return params


def describe(target: Target) -> str:
    """host:port/dbname (or the embedded directory), for error messages: never a password."""
    if target.embedded_dir is not None:
        return f"embedded PostgreSQL at {target.embedded_dir}"
    from psycopg.conninfo import conninfo_to_dict  # psycopg is loaded by then: describe follows a connect

    params = conninfo_to_dict(target.url)
    hosts = str(params.get("host") or "localhost").split(",")
    ports = str(params.get("port") or "5432").split(",")
    if len(ports) == 1:
        ports = ports * len(hosts)
    places = ",".join(f"{host or 'localhost'}:{port or 5432}" for host, port in zip(hosts, ports))
    return f"{places}/{params.get('dbname', '')}"


def _escape_option(value: str) -> str:
    return value.replace("\\", "\\\\").replace(" ", "\\ ")


def _first_line(exc: BaseException) -> str:
    text = redact(str(exc)).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines[:2]) if lines else type(exc).__name__


# -- advisory locks -----------------------------------------------------------------------------


def family_key(family: str) -> int:
    """A stable signed 64-bit advisory-lock key for a dbctl command family ("budget", "daily")."""
    digest = hashlib.sha256(f"dbctl:{family}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def advisory_lock(
    conn: psycopg.Connection[Any],
    key: int,
    *,
    timeout: float,
    what: str,
    scope: str = "session",
) -> Iterator[None]:
    """Hold advisory lock `key`, polled (`poll`) up to `timeout` seconds, else raise LockBusy naming
    the holder.

    `scope="session"` holds it until the block ends; `scope="xact"` until the caller's transaction
    ends (use inside `conn.transaction()`; safe behind transaction poolers).
    """
    name = "locks/try_session" if scope == "session" else "locks/try_xact"

    def held_by() -> str:
        holder = sqlfiles.run(conn, "locks/holder", {"key": key})
        return f" by pid {holder['pid']} ({holder['application_name'] or 'unnamed'})" if holder else ""

    def notice() -> None:
        log.info("%s: waiting for advisory lock %s, held%s; giving up after %g s (--lock-timeout)",
                 what, key, held_by(), timeout)

    if not poll(lambda: bool(sqlfiles.run(conn, name, {"key": key})), timeout=timeout, on_wait=notice):
        raise LockBusy(
            f"{what}: lock {key} is held{held_by()}; gave up after {timeout:g} s",
            hint="another run is in progress; retry later or raise --lock-timeout",
        )
    try:
        yield
    finally:
        if scope == "session" and not conn.closed:
            sqlfiles.run(conn, "locks/unlock_session", {"key": key})


def poll(try_once: Callable[[], bool], *, timeout: float, on_wait: Callable[[], None] | None = None) -> bool:
    """Call `try_once` until it returns True (then True) or `timeout` seconds have passed (then
    False), sleeping 50 ms doubling up to 1 s, jittered, in between; `on_wait` once the wait has
    lasted NOTICE_AFTER seconds. How dbctl waits for any lock, an advisory lock or a Redis lease:
    never with a blocking call that could not be bounded."""
    started = time.monotonic()
    deadline = started + max(timeout, 0.0)
    delay = 0.05
    while not try_once():
        now = time.monotonic()
        if on_wait is not None and now - started >= NOTICE_AFTER:
            on_wait()
            on_wait = None
        if now >= deadline:
            return False
        wake = deadline if on_wait is None else min(deadline, started + NOTICE_AFTER)  # wake for the notice too
        time.sleep(min(delay * random.uniform(0.5, 1.5), max(wake - time.monotonic(), 0.01)))
        delay = min(delay * 2, 1.0)
    return True


# -- row and table lock waits -------------------------------------------------------------------


def attempt_lock_timeout(timeout: float) -> str:
    """The lock_timeout of one attempt when a transaction's lock waits are retried up to `timeout`
    seconds in all (`LockWait`): short, so a queued dbctl statement never holds a proxy's writes up
    for long (waiters queue behind it)."""
    return f"{round(_attempt_seconds(timeout) * 1000)}ms"


def _attempt_seconds(timeout: float) -> float:
    return max(min(timeout, 1.0), 0.05)


class LockWait:
    """One bound (`timeout` seconds) on every row or table lock wait of a retried transaction
    (`retry(wait=...)`, on a connection made with `attempt_lock_timeout(timeout)`): after
    NOTICE_AFTER seconds stderr says what it waits for and who holds it, and when the time is spent
    LockBusy (exit 5) names the holder. A session waiting on a lock cannot ask who blocks it, so
    from the first timed-out attempt on, a second connection asks `pg_blocking_pids` (in a thread,
    until the block ends). `attach` names the waiting connection (again when an attempt opens its own)."""

    def __init__(self, target: Target, *, timeout: float, what: str, command: str) -> None:
        self.target, self.timeout, self.what, self.command = target, timeout, what, command
        self.pid: int | None = None
        self.holders: list[dict[str, Any]] = []  # as the watch last saw them
        self._first: float | None = None
        self._noticed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LockWait:
        return self

    def attach(self, conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
        self.pid = conn.info.backend_pid
        return conn

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def conflict(self, exc: Exception) -> None:
        """An attempt hit a lock timeout (or deadlock): watch, say so after NOTICE_AFTER seconds,
        raise LockBusy once `timeout` is spent (the first attempt had waited its lock_timeout)."""
        now = time.monotonic()
        if self._first is None:
            self._first = now
            self._thread = threading.Thread(target=self._watch, name="dbctl lock watch", daemon=True)
            self._thread.start()
        waited = now - self._first + _attempt_seconds(self.timeout)
        if waited >= self.timeout:
            raise LockBusy(f"{self.what}: gave up after {self.timeout:g} s waiting for {_waited_for(exc)} "
                           f"held by {self.who()}",
                           hint="another session holds it (a proxy's transaction or another tool); retry "
                                "later or raise --lock-timeout") from None
        if waited >= NOTICE_AFTER and not self._noticed:
            self._noticed = True
            log.info("%s: waiting for %s held by %s; giving up after %g s (--lock-timeout)",
                     self.what, _waited_for(exc), self.who(), self.timeout)

    def who(self) -> str:
        if not self.holders:
            return "another session"
        return ", ".join(f"pid {h['pid']} ({h['application_name'] or 'unnamed'})" for h in self.holders)

    def _watch(self) -> None:
        try:
            with connect(self.target, command=f"{self.command} (lock watch)", autocommit=True,
                         read_only=True) as probe:
                while True:
                    if self.pid is not None:
                        self.holders = sqlfiles.run(probe, "locks/blockers", {"pid": self.pid}) or self.holders
                    if self._stop.wait(0.1):
                        return
        except Exception as exc:  # the watch only names the holder: it never fails the run
            log.debug("lock watch: %s", _first_line(exc))


def _waited_for(exc: Exception) -> str:
    """"a row lock on LiteLLM_UserTable", from the server's context line of a lock timeout."""
    context = getattr(getattr(exc, "diag", None), "context", None) or ""
    match = re.search(r'relation "([^"]+)"', context)
    if match is None:
        return "a lock"
    return f"{'a row lock' if 'tuple' in context else 'a lock'} on {match[1]}"


# -- retry --------------------------------------------------------------------------------------


def conflict_errors() -> tuple[type[Exception], ...]:
    """What a concurrent session causes and a rolled-back attempt may simply repeat: lock_timeout,
    a deadlock, a serialization failure."""
    # psycopg's error classes (~110 ms to import): asked for only once a connection exists.
    import psycopg.errors as pe

    return pe.LockNotAvailable, pe.DeadlockDetected, pe.SerializationFailure


def retry(
    attempt: Callable[[], T],
    *,
    what: str,
    attempts: int = 6,
    base_delay: float = 0.05,
    on_retry: Callable[[Exception, int], None] | None = None,
    replan: tuple[type[Exception], ...] = (),
    replans: int = 3,
    gave_up: Callable[[Exception], Exception] | None = None,
    wait: LockWait | None = None,
) -> T:
    """Run `attempt` (a whole transaction) again when it hit one of `conflict_errors()`, after a
    jittered exponential backoff, up to `attempts` times; then raise OperationalError.

    `replan` names exceptions that say the attempt's plan went stale (rows changed between its
    read and its write): the attempt runs again at once, with a fresh `attempts` allowance, up to
    `replans` runs in all; then `gave_up(exc)` is raised (by default an OperationalError saying the
    rows kept changing). Only for work the caller knows is safe to repeat: the failed try must have
    rolled back.

    With `wait`, conflicts are retried until its one time bound is spent (then LockBusy naming the
    holder), not `attempts` times.
    """
    conflicts = conflict_errors()
    number = 0  # conflicts in a row since the last plan
    plans = 1
    while True:
        try:
            return attempt()
        except conflicts as exc:
            number += 1
            if wait is not None:
                wait.conflict(exc)
            elif number == attempts:
                raise OperationalError(f"{what}: {_first_line(exc)} (after {attempts} attempts)") from None
            if on_retry:
                on_retry(exc, number)
            log.debug("%s: %s; retry %d", what, type(exc).__name__, number)
            time.sleep(min(base_delay * (2 ** (number - 1)), 1.0) * random.uniform(0.5, 1.5))
        except replan as exc:
            if plans >= replans:
                raise (gave_up(exc) if gave_up else OperationalError(
                    f"{what}: the rows kept changing while dbctl planned ({exc}); gave up after {plans} attempts",
                    hint="a proxy or another tool is rewriting the same rows; retry")) from None
            plans += 1
            number = 0
            log.debug("%s: %s; planning again", what, exc)
