"""The batch loop `logs prune` and `logs scrub` share: a walk over the spend logs of a time range in
("startTime", request_id) order, a bounded batch per short transaction, beside a live proxy.

Each batch is one statement (a `queries/logs/*_batch.sql` file) that changes at most `batch_size`
rows from a key on and returns how many rows it changed and looked at and the last key, where the
next batch starts; it commits before the next begins. So a kill loses at most the batch in flight
(rolled back), and the next run starts the range again and finds only what is left. A batch is
bounded in time too: its transaction carries a statement_timeout, row and table lock waits are
short (retried, up to --lock-timeout in all: `database.LockWait`), a batch slower than
`Pace.target_seconds` halves the next one, and between batches the loop pauses (`Pace.pause`,
and `Pace.max_rate` rows/s at most), so a proxy's inserts never queue behind dbctl for long.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from functools import partial
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import clock, pausepoints
from litellm_dbctl.common.errors import InvalidInput, OperationalError
from litellm_dbctl.db import database, sqlfiles

if TYPE_CHECKING:
    import psycopg

FIRST_KEY = (datetime(1, 1, 1), "")  # before every spend log: ("startTime", request_id) > it
MIN_BATCH = 100
LOCK_FAMILY = "logs"
BATCH_LOCK_TIMEOUT = "200ms"  # one attempt's wait for a row or table lock (a proxy's inserts may queue behind it)


def midnight(day: date) -> datetime:
    return datetime.combine(day, dtime(0), tzinfo=timezone.utc)


def cutoff_for(*, older_than: float | None = None, until: datetime | None = None,
               now: datetime | None = None) -> datetime:
    """The UTC midnight a prune deletes before: the one at or before `now - older_than`, or at or
    before `until` (an --until day is already its following midnight). Exactly one is given."""
    if (older_than is None) == (until is None):
        raise InvalidInput("say what to prune: --older-than DURATION or --until DATE (one of them)")
    if until is None:
        assert older_than is not None
        moment = (now or clock.now()).astimezone(timezone.utc)
        try:
            until = moment - timedelta(seconds=older_than)
        except OverflowError:
            raise InvalidInput(f"--older-than: {older_than:g} s reaches before year 1") from None
    until = until.astimezone(timezone.utc)
    return midnight(until.date())


@dataclass(frozen=True)
class Pace:
    """How hard a walk presses: rows per batch (at most), each batch's statement_timeout, the pause
    between batches, a ceiling in rows per second (None: none), and the batch time above which the
    next batch is halved."""

    batch_size: int = 5000
    statement_timeout: str = "30s"
    pause: float = 0.002  # bench/logs_prune.py: 2 ms keeps a writer's p99 where 10 ms did, at 1.26x the rate
    max_rate: float | None = None
    target_seconds: float = 1.0


@dataclass(frozen=True)
class Batch:
    affected: int  # rows changed (deleted, scrubbed)
    scanned: int  # rows the batch looked at (a full batch means there may be more)
    last_key: tuple[datetime, str] | None


@dataclass(frozen=True)
class Walked:
    affected: int
    scanned: int
    batches: int
    seconds: float


class Throttle:
    """Sleeps between batches: at least `pace.pause`, and long enough that the rows done since the
    start never exceed `pace.max_rate` per second."""

    def __init__(self, pace: Pace, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.pace, self.clock, self.sleep = pace, clock, sleep
        self.started = clock()
        self.rows = 0

    def wait_for(self, rows: int) -> float:
        """Seconds to sleep after a batch of `rows` (pure, given the clock)."""
        self.rows += rows
        delay = self.pace.pause
        if self.pace.max_rate:
            due = self.started + self.rows / self.pace.max_rate
            delay = max(delay, due - self.clock())
        return max(delay, 0.0)

    def after(self, rows: int) -> None:
        delay = self.wait_for(rows)
        if delay > 0:
            self.sleep(delay)


def next_size(current: int, limit: int, seconds: float, target: float) -> int:
    """The next batch's size: halved after a batch slower than `target`, doubled back (up to `limit`)
    after one under a quarter of it."""
    if seconds > target:
        return max(MIN_BATCH, current // 2)
    if seconds < target / 4:
        return min(limit, current * 2)
    return current


def walk(conn: psycopg.Connection, query: str, params: Mapping[str, Any], *, pace: Pace,
         wait: database.LockWait, what: str, throttle: Throttle | None = None,
         on_batch: Callable[[Batch], None] | None = None) -> Walked:
    """Run batch statement `query` (its parameters `params` plus after_time, after_id and batch)
    until a batch looks at fewer rows than it asked for. `conn` is in autocommit mode: each batch is
    its own transaction, committed before the pause. `on_batch` sees each committed batch."""
    throttle = throttle or Throttle(pace)
    key = FIRST_KEY
    size = pace.batch_size
    affected = scanned = batches = 0
    started = time.monotonic()
    keyed = "after_id" in sqlfiles.get(query).params
    while True:
        began = time.monotonic()
        args = {**params, "after_time": key[0], "batch": size, **({"after_id": key[1]} if keyed else {})}
        try:
            batch = database.retry(partial(_one, conn, query, args, pace), what=what, wait=wait)
        except _canceled() as exc:  # statement_timeout: a smaller batch, unless it is already the smallest
            if size <= MIN_BATCH:
                raise OperationalError(f"{what}: a batch of {size} rows exceeded statement_timeout "
                                       f"{pace.statement_timeout}: {str(exc).strip().splitlines()[0]}") from None
            size = max(MIN_BATCH, size // 4)
            continue
        pausepoints.pause("LOGS_BATCH")
        batches += 1
        affected += batch.affected
        scanned += batch.scanned
        if on_batch is not None:
            on_batch(batch)
        if batch.scanned < size or batch.last_key is None:
            return Walked(affected, scanned, batches, time.monotonic() - started)
        key = batch.last_key
        size = next_size(size, pace.batch_size, time.monotonic() - began, pace.target_seconds)
        throttle.after(batch.affected)


def _canceled() -> type[Exception]:
    import psycopg.errors as pe  # loaded with the connection already

    return pe.QueryCanceled


def _one(conn: psycopg.Connection, query: str, params: Mapping[str, Any], pace: Pace) -> Batch:
    with conn.transaction():
        sqlfiles.run(conn, "logs/batch_timeout", {"statement_timeout": pace.statement_timeout})
        row = sqlfiles.run(conn, query, params)
    last = (row["last_time"], row["last_id"]) if row["last_time"] is not None else None
    return Batch(row["affected"], row["scanned"], last)


def connect(target: Any, *, command: str, lock_timeout: float) -> tuple[psycopg.Connection, database.LockWait]:
    """An autocommit connection for a walk (its lock waits short: BATCH_LOCK_TIMEOUT) and the
    LockWait bounding them all by `lock_timeout` seconds."""
    conn = database.connect(target, command=command, autocommit=True, lock_timeout=BATCH_LOCK_TIMEOUT)
    wait = database.LockWait(target, timeout=lock_timeout, what=command, command=command)
    wait.attach(conn)
    return conn, wait
