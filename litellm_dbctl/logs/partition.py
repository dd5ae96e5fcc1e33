"""`dbctl logs partition`: convert a plain LiteLLM_SpendLogs into the range-partitioned layout LiteLLM's
partition manager maintains, online, and pre-create partitions on one that already is.

PostgreSQL cannot partition a populated table in place, so the rows move to a new one while the proxy
keeps writing the old:
1. prepare (one transaction, no lock the proxy waits on): `LiteLLM_SpendLogs_new` partitioned by range
   on "startTime" with the old table's columns, defaults, indexes and grants, primary key
   ("request_id", "startTime"), one partition per period from the oldest row to `--premake` periods
   ahead, and LiteLLM's DEFAULT partition; dbctl's state tables record the phase.
2. trigger (CREATE TRIGGER waits for the proxy's open inserts: 500 ms lock_timeout, retried):
   statement-level triggers on the old table mirror every insert, update and delete into the new one.
3. copy: the old rows in batches by "startTime" (`--batch-size`), one short transaction each, the
   state row advanced in the same transaction, so a killed run resumes at the batch it lost; paced
   as prune's batches are (`--pause` between batches, `--max-rate` rows/s at most).
4. reconcile: rows updated or deleted during the copy (their keys recorded by the trigger) are copied
   again, so no stale copy a batch read before the change survives.
5. swap (one transaction under a 500 ms lock_timeout, retried up to `--lock-timeout`): lock both
   tables, reconcile what is left, drop the triggers, rename old -> LiteLLM_SpendLogs_old and new ->
   LiteLLM_SpendLogs with the key and index names the migrations gave, re-point views.
6. drop the old table (unless `--keep-old`) and dbctl's state; premake partitions.
At every point the proxy writes to a plain or a partitioned LiteLLM_SpendLogs, and the next run goes
on from the recorded phase. Waits for the proxy: its inserts queue behind a lock dbctl waits for only
during a trigger or swap attempt (at most 500 ms) and the swap's own work (renames, milliseconds).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import pausepoints
from litellm_dbctl.common.errors import IntegrityError
from litellm_dbctl.db import database, sqlfiles
from litellm_dbctl.logs import partition_plan as plan
from litellm_dbctl.logs.batches import Pace, Throttle

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

log = logging.getLogger("dbctl")
COMMAND = "logs partition"
LOCK_FAMILY = "logs"
ATTEMPT_LOCK_TIMEOUT = "500ms"  # a trigger or swap attempt: the longest the proxy's inserts queue behind it
DEFAULT_BATCH_SIZE = 50_000
Progress = Callable[[int, int], None]  # (rows copied so far, rows estimated in all)


@dataclass(frozen=True)
class Options:
    interval: str = plan.DEFAULT_INTERVAL
    premake: int = plan.DEFAULT_PREMAKE
    batch_size: int = DEFAULT_BATCH_SIZE
    pause: float = Pace.pause  # seconds between copy batches
    max_rate: float | None = None  # copied rows per second at most
    keep_old: bool = False
    dry_run: bool = False
    lock_timeout: float = 30.0  # advisory lock, and all the attempts of one locking step together
    today: date | None = None  # tests: the UTC day partitions are premade from


@dataclass(frozen=True)
class Result:
    outcome: str  # converted | resumed | already partitioned | dry run
    interval: str
    steps: tuple[str, ...]  # done, or with dry_run still to do
    partitions_created: tuple[str, ...]
    partitions_skipped: tuple[str, ...]  # wanted, but an existing partition covers part of the range
    rows_copied: int  # by this run's copy batches (the trigger mirrors the proxy's new rows besides)
    batches: int
    reconciled: int  # keys copied again after an update or delete during the copy
    swap_attempts: int
    old_table: str | None  # the plain table kept by --keep-old
    rows_estimate: int | None  # the plain table's rows by the planner's statistics (None: never analyzed)
    dry_run: bool

    @property
    def work(self) -> bool:
        """Whether the run did (a dry run: would do) anything."""
        return bool(self.partitions_created) or any(step != "premake" for step in self.steps)


@dataclass(frozen=True)
class _Status:
    kind: str | None
    new_exists: bool
    old_exists: bool
    state_exists: bool
    owner: str | None
    me: str

    @property
    def role(self) -> str | None:
        """The role to act as: the table's owner, when that is not who dbctl connects as."""
        return self.owner if self.owner and self.owner != self.me else None


def partition(target: Target, options: Options, *, progress: Progress | None = None) -> Result:
    """Convert (or resume converting) LiteLLM_SpendLogs to the partitioned layout, then premake
    partitions; on a partitioned table only premake. Under the `logs` advisory lock (LockBusy after
    `options.lock_timeout`)."""
    with database.connect(target, command=COMMAND, autocommit=True,
                          lock_timeout=database.attempt_lock_timeout(options.lock_timeout)) as conn, \
            database.advisory_lock(conn, database.family_key(LOCK_FAMILY), timeout=options.lock_timeout,
                                   what=COMMAND):
        return _Run(conn, target, options, progress).run()


class _Run:
    def __init__(self, conn: psycopg.Connection[Any], target: Target, options: Options,
                 progress: Progress | None) -> None:
        self.conn, self.target, self.options, self.progress = conn, target, options, progress
        self.created: list[str] = []
        self.skipped: list[str] = []
        self.rows_copied = self.batches = self.reconciled = self.swap_attempts = 0

    def run(self) -> Result:
        status = self._status()
        if status.kind not in ("r", "p"):
            raise IntegrityError("there is no LiteLLM_SpendLogs table in this schema",
                                 hint="run `dbctl migrate deploy` first")
        state = sqlfiles.run(self.conn, "logs/partition_state_read") if status.state_exists else None
        phase = state["phase"] if state else None
        partitioned = status.kind == "p"
        if (partitioned and phase not in (None, plan.SWAPPED)) or (not partitioned and phase == plan.SWAPPED):
            raise IntegrityError(f"LiteLLM_SpendLogs is {'partitioned' if partitioned else 'plain'} but dbctl's "
                                 f"conversion state says {phase!r}: it was changed by other means",
                                 hint="inspect the tables; drop dbctl_logs_partition* to start afresh")
        interval = state["interval"] if state else self.options.interval
        if state and interval != self.options.interval:
            log.warning("resuming a conversion by %s (--interval %s is ignored)", interval, self.options.interval)
        steps = plan.remaining_steps(phase, partitioned=partitioned, old_exists=status.old_exists,
                                     keep_old=self.options.keep_old)
        estimate = None
        if not partitioned:
            refusals = [r["problem"] for r in sqlfiles.run(self.conn, "logs/partition_refusals")]
            if refusals:
                raise IntegrityError("LiteLLM_SpendLogs cannot be partitioned as it is: " + "; ".join(refusals),
                                     hint="drop or change those objects first; nothing was changed")
            estimate = sqlfiles.run(self.conn, "logs/partition_bounds")["estimate"]
        if self.options.dry_run:
            return self._dry_run(status, interval, steps, estimate)
        done: list[str] = []
        if not partitioned:
            if phase is None:
                self._prepare(status, interval)
                done.append("prepare")
            if phase in (None, plan.PREPARED):
                self._trigger(status)
                done.append("trigger")
            if phase in (None, plan.PREPARED, plan.COPYING):
                self._copy(state["copied_until"] if state else None, estimate or 0)
                done.append("copy")
            self._reconcile()
            self._swap(status)
            done += ["reconcile", "swap"]
            pausepoints.pause("PARTITION_SWAPPED")
            phase = plan.SWAPPED
            status = self._status()
        if phase == plan.SWAPPED:
            if status.old_exists and not self.options.keep_old:
                self._step("drop the old table", status, lambda: sqlfiles.run(self.conn, "logs/partition_drop_old"))
                done.append("drop")
            self._step("clean up", status, lambda: sqlfiles.run(self.conn, "logs/partition_cleanup"))
            done.append("cleanup")
        self._premake(status, interval, plan.SPEND_LOGS)
        done.append("premake")
        outcome = "already partitioned" if partitioned and state is None else \
            "resumed" if state is not None else "converted"
        kept = plan.OLD_TABLE if self.options.keep_old and self._status().old_exists else None
        return self._result(outcome, interval, done, kept, estimate)

    # -- the steps ------------------------------------------------------------------------------

    def _status(self) -> _Status:
        row = sqlfiles.run(self.conn, "logs/partition_status")
        return _Status(row["kind"], row["new_exists"], row["old_exists"], row["state_exists"], row["owner"],
                       row["me"])

    def _prepare(self, status: _Status, interval: str) -> None:
        """The partitioned table, its indexes, partitions and grants, and the state: one transaction."""
        def attempt() -> None:
            with self.conn.transaction():
                self._act_as(status)
                for name in ("state_create", "dirty_create", "index_map_create", "new_create", "new_pkey",
                             "new_indexes"):
                    sqlfiles.run(self.conn, f"logs/partition_{name}")
                bounds = sqlfiles.run(self.conn, "logs/partition_bounds")
                today = self._today()
                first = bounds["first"].date() if bounds["first"] else today
                last = max(bounds["last"].date() if bounds["last"] else today, today)
                self._create_partitions(plan.NEW_TABLE, plan.covering(first, last, interval, self.options.premake))
                with _client_binding(self.conn):
                    sqlfiles.run(self.conn, "logs/partition_create_default",
                                 identifiers={"partition": plan.DEFAULT_PARTITION, "parent": plan.NEW_TABLE})
                sqlfiles.run(self.conn, "logs/partition_state_start", {"interval": interval, "copied_until": None})

        self._retried("prepare", attempt)

    def _trigger(self, status: _Status) -> None:
        def attempt() -> None:
            with self.conn.transaction():
                sqlfiles.run(self.conn, "logs/partition_set_local", {"name": "lock_timeout",
                                                                     "value": ATTEMPT_LOCK_TIMEOUT})
                self._act_as(status)
                sqlfiles.run(self.conn, "logs/partition_mirror_function")
                sqlfiles.run(self.conn, "logs/partition_triggers")
                sqlfiles.run(self.conn, "logs/partition_state_phase", {"phase": plan.COPYING})

        self._retried("install the mirror triggers", attempt)

    def _copy(self, copied_until: datetime | None, estimate: int) -> None:
        """The old rows in batches by "startTime", each batch and its progress one transaction. The
        start is read after the trigger is in place: an older row inserted since is mirrored."""
        lower = copied_until or sqlfiles.run(self.conn, "logs/partition_bounds")["first"]
        throttle = Throttle(Pace(pause=self.options.pause, max_rate=self.options.max_rate))
        while lower is not None:
            upper = sqlfiles.run(self.conn, "logs/partition_copy_boundary",
                                 {"lower": lower, "rows": self.options.batch_size})
            if upper is not None and upper <= lower:  # more than a batch share one instant
                upper = sqlfiles.run(self.conn, "logs/partition_next_time", {"after": lower})
            batch = plan.Batch(lower, upper)
            before = self.rows_copied
            self._retried("copy a batch", partial(self._copy_batch, batch))
            pausepoints.pause("PARTITION_BATCH")
            if self.progress:
                self.progress(self.rows_copied, max(estimate, self.rows_copied))
            lower = upper
            if lower is not None:
                throttle.after(self.rows_copied - before)
        if copied_until is None and lower is None and not self.batches:
            sqlfiles.run(self.conn, "logs/partition_state_phase", {"phase": plan.COPIED})

    def _copy_batch(self, batch: plan.Batch) -> None:
        with self.conn.transaction():
            if batch.upper is None:
                rows = sqlfiles.run(self.conn, "logs/partition_copy_tail", {"lower": batch.lower})
                sqlfiles.run(self.conn, "logs/partition_state_phase", {"phase": plan.COPIED})
            else:
                rows = sqlfiles.run(self.conn, "logs/partition_copy_range",
                                    {"lower": batch.lower, "upper": batch.upper})
            sqlfiles.run(self.conn, "logs/partition_state_progress",
                         {"copied_until": batch.upper or batch.lower, "rows": rows})
        self.rows_copied += rows
        self.batches += 1

    def _reconcile(self) -> None:
        """Copy again the keys updated or deleted so far, in one snapshot, without locking the table
        (the swap reconciles the rest under its lock, so this keeps the swap short)."""
        def attempt() -> int:
            with self.conn.transaction():
                sqlfiles.run(self.conn, "logs/partition_repeatable_read")
                return self._reconcile_keys()

        self.reconciled += self._retried("reconcile", attempt)

    def _reconcile_keys(self) -> int:
        if not sqlfiles.run(self.conn, "logs/partition_dirty_any"):
            return 0
        sqlfiles.run(self.conn, "logs/partition_dirty_delete")
        sqlfiles.run(self.conn, "logs/partition_dirty_insert")
        keys: int = sqlfiles.run(self.conn, "logs/partition_dirty_clear")
        return keys

    def _swap(self, status: _Status) -> None:
        def attempt() -> None:
            self.swap_attempts += 1
            with self.conn.transaction():
                sqlfiles.run(self.conn, "logs/partition_set_local", {"name": "lock_timeout",
                                                                     "value": ATTEMPT_LOCK_TIMEOUT})
                self._act_as(status)
                sqlfiles.run(self.conn, "logs/partition_lock")
                self.reconciled += self._reconcile_keys()
                sqlfiles.run(self.conn, "logs/partition_swap")
                sqlfiles.run(self.conn, "logs/partition_state_phase", {"phase": plan.SWAPPED})

        self._retried("swap the tables", attempt)

    def _premake(self, status: _Status, interval: str, parent: str) -> None:
        """The current period's partition and `premake` more, each its own short transaction (a
        partition next to a DEFAULT one locks the parent briefly, as LiteLLM's own premake does)."""
        existing = self._partitions(parent)
        guessed = plan.guess_interval(existing)
        if guessed and guessed != interval:
            log.warning("the existing partitions are by %s, not %s (--interval): ranges they cover are skipped",
                        guessed, interval)
        today = self._today()
        wanted, skipped = plan.to_create(plan.covering(today, today, interval, self.options.premake), existing)
        self.skipped += [p.name for p in skipped]
        for part in wanted:
            def attempt(part: plan.Partition = part) -> None:
                with self.conn.transaction():
                    sqlfiles.run(self.conn, "logs/partition_set_local", {"name": "lock_timeout",
                                                                         "value": ATTEMPT_LOCK_TIMEOUT})
                    self._act_as(status)
                    self._create_partitions(parent, [part])

            self._retried(f"create partition {part.name}", attempt)

    def _create_partitions(self, parent: str, parts: list[plan.Partition]) -> None:
        with _client_binding(self.conn):
            for part in parts:
                sqlfiles.run(self.conn, "logs/partition_create",
                             {"lower": part.lower.isoformat(), "upper": part.upper.isoformat()},
                             identifiers={"partition": part.name, "parent": parent})
                self.created.append(part.name)

    def _partitions(self, parent: str) -> list[plan.Partition]:
        rows = sqlfiles.run(self.conn, "logs/partition_list", {"parent": parent})
        return [p for p in (plan.parse_bound(r["name"], r["bound"]) for r in rows) if p is not None]

    def _step(self, what: str, status: _Status, action: Callable[[], Any]) -> None:
        def attempt() -> None:
            with self.conn.transaction():
                self._act_as(status)
                action()

        self._retried(what, attempt)

    def _act_as(self, status: _Status) -> None:
        if status.role:
            sqlfiles.run(self.conn, "logs/partition_set_role", identifiers={"role": status.role})

    def _retried(self, what: str, attempt: Callable[[], Any]) -> Any:
        """One step's transaction, repeated after a lock timeout until `--lock-timeout` is spent."""
        created = len(self.created)
        label = f"{COMMAND}: {what}"

        def once() -> Any:
            del self.created[created:]  # a rolled-back attempt created nothing
            return attempt()

        with database.LockWait(self.target, timeout=self.options.lock_timeout, what=label,
                               command=COMMAND) as wait:
            wait.attach(self.conn)
            return database.retry(once, what=label, wait=wait)

    def _today(self) -> date:
        return self.options.today or datetime.now(timezone.utc).date()

    # -- dry run and result ---------------------------------------------------------------------

    def _dry_run(self, status: _Status, interval: str, steps: list[str], estimate: int | None) -> Result:
        today = self._today()
        if status.kind == "r" and "prepare" in steps:
            bounds = sqlfiles.run(self.conn, "logs/partition_bounds")
            first = bounds["first"].date() if bounds["first"] else today
            last = max(bounds["last"].date() if bounds["last"] else today, today)
            self.created = [p.name for p in plan.covering(first, last, interval, self.options.premake)]
            self.created.append(plan.DEFAULT_PARTITION)
            steps = [s for s in steps if s != "premake"]
        elif status.kind == "p":
            existing = self._partitions(plan.SPEND_LOGS)
            wanted, skipped = plan.to_create(plan.covering(today, today, interval, self.options.premake), existing)
            self.created = [p.name for p in wanted]
            self.skipped = [p.name for p in skipped]
            if not wanted:
                steps = [s for s in steps if s != "premake"]
        else:
            steps = [s for s in steps if s != "premake"]
        return self._result("dry run", interval, steps, None, estimate)

    def _result(self, outcome: str, interval: str, steps: list[str], kept: str | None,
                estimate: int | None) -> Result:
        return Result(outcome, interval, tuple(steps), tuple(self.created), tuple(self.skipped), self.rows_copied,
                      self.batches, self.reconciled, self.swap_attempts, kept, estimate, self.options.dry_run)


@contextmanager
def _client_binding(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Parameters bound client-side, for DDL (a partition's bounds), which takes no server-side ones."""
    import psycopg

    saved = conn.cursor_factory
    conn.cursor_factory = psycopg.ClientCursor
    try:
        yield
    finally:
        conn.cursor_factory = saved
