"""Budgets kept right from cron: window resets, declared limits and counter repair, in one run.

LiteLLM resets budget windows in a job inside the proxy (~every 10 minutes). With the proxy down
it misses resets, with several pods and no Redis it double-resets, and rows with a duration but
no budget_reset_at are zeroed or never reset (litellm-database.md §3). `sync` does the same work
set-based and safely beside live proxies:

- per entity table (keys, users, teams), the due rows are read and locked in key order
  (budget/due_*, the report); when there are any, one plain UPDATE resets that same selection
  (budget/reset_keys, budget/reset) with the next budget_reset_at computed once per distinct duration
  (`durations.next_reset`; budget/resets.py). Locking in key order first means the reset never waits on a row it
  has not locked, so it cannot deadlock a proxy's sorted spend flush; the spend subtracted is the
  spend locked (an increment that arrives waits and then lands in the new window), and a window
  another run or a proxy's job moved meanwhile is no longer due when its lock is granted, so it is
  never reset twice. The UPDATE's rowcount must equal the rows locked. (Per 100k rows against a
  hand-written UPDATE: this 1.25x; one statement locking in a CTE and RETURNING the report 1.4x;
  shipping the plan back as per-row arrays 2-2.4x.) A dry run reads the same selection unlocked,
  unless declared limits or a repair follow: they depend on the reset, so it is applied (and rolled
  back) as in the real run, and the dry run's plan is the real run's;
- budget_limits windows of keys and teams (budget/windows.py) move as LiteLLM's job moves them;
- budget tiers are few: their due rows are locked and read first (the plan), then moved; a tier
  that became due in between makes the counts differ and the transaction is planned again;
- rows a budget tier's reset cascades to (end users, memberships, keys, orgs, tags, projects,
  model access groups) are not locked by the plan: their apply subtracts the spend read per row
  and checks each still holds the tier;
- declared limits from a budgets.yaml (budget/limits.py) are written only where they differ, after
  the resets (a due window closes under the limits it ran with);
- counter repair (budget/repair.py) recomputes each entity's spend in its current window from
  LiteLLM_SpendLogs and applies the drift as an increment;
- everything runs in one transaction under the budget family's advisory lock (and, with Redis,
  under the lease LiteLLM's own reset job takes, so no proxy resets meanwhile). `dry_run` runs the
  other statements and rolls back. After commit, Redis counters and cached objects of the changed
  entities are invalidated so proxies stop enforcing stale spend at once (§6). What is owed is
  written in the same transaction (cache/owed.py) and deleted once done: a run killed after its
  COMMIT leaves it for the next run, which finishes it first (or `--finish-invalidations` alone);
- a connection lost while committing is reported with what a new session can tell about the
  transaction (committed, rolled back, unknown), never as a plain failure.
"""


from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from litellm_dbctl.budget import limits, repair, resets, tiers
from litellm_dbctl.budget.limits import LimitsSpec
from litellm_dbctl.budget.records import Change, Outcome, ResetBatch, Skip
from litellm_dbctl.cache import invalidate as cache
from litellm_dbctl.cache import owed
from litellm_dbctl.common import clock, durations, pausepoints
from litellm_dbctl.common.durations import ResetPolicy
from litellm_dbctl.common.errors import InvalidInput, OperationalError
from litellm_dbctl.db import database, release, sqlfiles

if TYPE_CHECKING:
    from collections.abc import Callable

    import psycopg

    from litellm_dbctl.db.config import Target
    from litellm_dbctl.spend.buffer import Waiting

LEASE_KEY = "cronjob_lock:reset_budget_job"  # LiteLLM's reset-job lease (PodLockManager, §3.1)
LEASE_TTL_SECONDS = 30  # renewed while the run works; a run that dies blocks the proxies' resets this long
STALE_COUNTER_SECONDS = cache.DEFAULT_OBJECT_TTL_SECONDS
SORT_WORK_MEM = "64MB"  # 10^5 due rows sorted by key: ~10 MB; PostgreSQL's default 4MB spills to disk
# Entity kinds whose cached objects and spend counters LiteLLM keeps in Redis (cache.EntityRef.kind).
CACHED_KINDS = frozenset({"key", "user", "team", "org", "end_user", "tag", "team_member", "project",
                          "model_access_group"})


@dataclass(frozen=True)
class SyncOptions:
    now: datetime | None = None  # default: the clock; aware or naive UTC
    policy: ResetPolicy = durations.UTC_MIDNIGHT
    resets: bool = True
    rollover: bool = False
    default_end_user_budget: str | None = None  # litellm_settings.max_end_user_budget_id
    limits: LimitsSpec | None = None
    repair_spend: bool = False
    settle: timedelta = timedelta(minutes=2)
    min_drift: float = 1e-6
    dry_run: bool = False
    lock_timeout: float = 30.0
    redis_url: str | None = field(default=None, repr=False)
    redis_namespace: str | None = None
    finish_only: bool = False  # only the invalidations earlier runs owe (--finish-invalidations)


@dataclass(frozen=True)
class SyncResult:
    dry_run: bool
    now: datetime
    policy: ResetPolicy
    batches: tuple[ResetBatch, ...]  # window resets of keys, users, teams and budget tiers
    other_changes: tuple[Change, ...]  # cascades, limits, repairs
    skipped: tuple[Skip, ...]
    warnings: tuple[str, ...]
    invalidation: cache.Invalidation | None
    seconds: float
    # Redis failed after the commit: why, and the entities whose counters and cached objects the
    # proxies may keep enforcing (the database changes stand; the next run with Redis finishes them).
    invalidation_error: str | None = None
    stale: tuple[cache.EntityRef, ...] = ()
    earlier: cache.Invalidation | None = None  # invalidations earlier runs owed, finished first

    @cached_property
    def changes(self) -> tuple[Change, ...]:
        """Every change, window resets first (built on first access)."""
        return (*(c for batch in self.batches for c in batch.changes()), *self.other_changes)

    @property
    def pending(self) -> bool:
        """Something changed (or, in a dry run, would)."""
        return any(batch.rows for batch in self.batches) or bool(self.other_changes)

    def counts(self) -> dict[str, int]:
        counts = {"reset": 0, "init": 0, "cascade": 0, "limits": 0, "repair": 0}
        for batch in self.batches:
            reset, initialized = batch.counts()
            counts["reset"] += reset
            counts["init"] += initialized
        for change in self.other_changes:
            counts[change.action] += 1
        return counts

    def summary(self) -> str:
        counts = self.counts()
        parts = [f"{counts['reset']} window(s) reset", f"{counts['cascade']} tier member(s) reset",
                 f"{counts['init']} budget_reset_at set", f"{counts['limits']} limit change(s)",
                 f"{counts['repair']} counter(s) repaired"]
        head = "would change: " if self.dry_run else ""
        tail = f"; {len(self.skipped)} left alone" if self.skipped else ""
        return head + ", ".join(parts) + tail


# -- sync ---------------------------------------------------------------------------------------


def sync(target: Target, options: SyncOptions) -> SyncResult:
    """Resets, declared limits and counter repair in one transaction; see the module docstring."""
    started = time.monotonic()
    now = clock.utc_aware(options.now) if options.now else clock.now()
    options.policy.zone(), options.policy.time_of_day()  # a bad --timezone/--budget-reset-time: exit 2 before connecting
    tell = bool(options.redis_url) and not options.dry_run
    if options.finish_only and not tell:
        raise InvalidInput("--finish-invalidations needs --redis-url (the proxies' Redis) and no --dry-run/--check")
    # Each attempt waits briefly on a row lock a proxy holds; `wait` bounds them all by --lock-timeout.
    conn = database.connect(target, command="budget sync", autocommit=True,
                            lock_timeout=database.attempt_lock_timeout(options.lock_timeout))
    with conn, database.advisory_lock(conn, database.family_key("budget"), timeout=options.lock_timeout,
                                      what="budget sync"), \
            database.LockWait(target, timeout=options.lock_timeout, what="budget sync", command="budget sync") as wait:
        wait.attach(conn)
        if (options.resets or options.repair_spend) and not options.finish_only:
            found = release.require_known(conn, target, "budget sync")  # resets and repair follow a release's rules
        else:
            found = release.release_of(conn, target)  # reads the ledger: a newer database is named all the same
        options = replace(options, policy=replace(options.policy, release=found.line))
        tiers.require(conn, options.default_end_user_budget)
        lease = None
        if tell:
            assert options.redis_url is not None
            lease = cache.Lease(options.redis_url, LEASE_KEY, ttl=LEASE_TTL_SECONDS,
                                namespace=options.redis_namespace)
            lease.acquire(timeout=options.lock_timeout, what="budget sync (a proxy's budget reset job)")
        invalidation = None
        failure: str | None = None
        stale: tuple[cache.EntityRef, ...] = ()
        try:
            earlier = _finish_earlier(conn, options) if tell else None
            outcome, recorded = (Outcome(), owed.Owed((), (), ())) if options.finish_only else \
                _commit(conn, target, options, now, record=tell, wait=wait)
            pausepoints.pause("AFTER_COMMIT")
            warnings = list(outcome.warnings)
            if tell and recorded:
                assert options.redis_url is not None
                try:
                    invalidation = owed.finish(conn, options.redis_url, recorded, namespace=options.redis_namespace)
                except cache.RedisError as exc:  # committed: report it with the result, not instead
                    failure, stale = exc.message, recorded.refs
            elif not tell and not options.dry_run and (spent_count := _spent_count(outcome)):
                warnings.append(_stale_enforcement_warning(spent_count))
        finally:
            unreleased = _release(lease) if lease is not None else None
    if unreleased:
        warnings.append(unreleased)
    return SyncResult(options.dry_run, now, options.policy, tuple(outcome.batches), tuple(outcome.changes),
                      tuple(outcome.skipped), tuple(warnings), invalidation, time.monotonic() - started,
                      failure, stale, earlier)


def _finish_earlier(conn: psycopg.Connection, options: SyncOptions) -> cache.Invalidation | None:
    """Finish the invalidations earlier runs recorded and did not do, counters included: first, so the
    proxies stop enforcing what those runs reset (`owed.finish_earlier`). None if none were owed."""
    assert options.redis_url is not None
    return owed.finish_earlier(conn, options.redis_url, counters=True, namespace=options.redis_namespace)


COMMIT_SETTLE_SECONDS = 10.0  # how long a lost COMMIT may stay "in progress" before we say we cannot tell


@dataclass
class _Attempt:
    """The transaction id of the attempt being committed, read just before its COMMIT."""

    xid: str | None = None


def _commit(conn: psycopg.Connection, target: Target, options: SyncOptions, now: datetime, *,
            record: bool, wait: database.LockWait) -> tuple[Outcome, owed.Owed]:
    """The transaction, retried on conflicts; when the connection drops while committing, an error
    saying what the server can still tell about the outcome (committed, rolled back, unknown)."""
    import psycopg  # here: loaded already by the connection; the module stays importable without it

    attempt = _Attempt()
    try:
        # the whole transaction again on a deadlock or lock timeout, and when rows changed under the plan
        return database.retry(
            lambda: _transaction(conn, options, now, attempt, record=record), what="budget sync",
            replan=(resets.PlanChanged,), replans=3,
            gave_up=lambda exc: OperationalError(f"budget sync: rows keep changing under the plan ({exc})"),
            wait=wait)
    except psycopg.OperationalError as exc:
        if attempt.xid is None or not conn.broken:  # lost before COMMIT was sent, or refused: rolled back
            raise
        raise _commit_unknown(target, attempt.xid, exc, record=record) from None


def _commit_unknown(target: Target, xid: str, exc: Exception, *, record: bool) -> OperationalError:
    """What a new session can prove about a transaction whose COMMIT got no answer."""
    head = f"budget sync: the connection was lost after COMMIT was sent ({_first_line(exc)})"
    try:
        with database.connect(target, command="budget sync", autocommit=True) as conn:
            status = sqlfiles.run(conn, "budget/xact_status", {"xid": xid})
            # The server has the COMMIT and finishes it (a busy server flushing for seconds): wait for that.
            deadline = time.monotonic() + COMMIT_SETTLE_SECONDS
            while status == "in progress" and time.monotonic() < deadline:
                time.sleep(0.05)
                status = sqlfiles.run(conn, "budget/xact_status", {"xid": xid})
    except Exception as again:  # any failure leaves the outcome unknown: say why
        status, why = None, f"the server cannot be asked: {_first_line(again)}"
    else:
        why = f"the server says: {status or 'too old to tell'}"
    owed_hint = ("the proxies' invalidations are recorded with it: the next `budget sync --redis-url` "
                 "(or --finish-invalidations) sends them") if record else None
    if status == "committed":
        return OperationalError(f"{head}; committed: check with `budget status`", hint=owed_hint)
    if status == "aborted":
        return OperationalError(f"{head}; the server rolled it back: nothing changed", hint="safe to retry")
    return OperationalError(f"{head}; it may have committed ({why}): check with `budget status`",
                            hint=owed_hint)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _transaction(conn: psycopg.Connection, options: SyncOptions, now: datetime, attempt: _Attempt, *,
                 record: bool) -> tuple[Outcome, owed.Owed]:
    """One attempt at the whole sync: resets, limits, repair in one transaction (rolled back in a
    dry run). Resets come first: a due window closes under the limits it ran with (a duration the
    file changes would otherwise move budget_reset_at past it, and its spend would carry over).
    With `record`, the cache invalidations the changes owe are written in the same transaction."""
    outcome = Outcome()
    recorded = owed.Owed((), (), ())
    attempt.xid = None
    with conn.transaction(force_rollback=options.dry_run):
        # due rows are sorted into key order before they are locked: in memory, not on disk
        sqlfiles.run(conn, "session/tune_transaction", {"work_mem": SORT_WORK_MEM})
        if options.resets:
            # A dry run only reads the due rows (no locks on rows proxies write), unless limits or a
            # repair follow: they must see the windows as the real run leaves them, so then the
            # resets are applied too and rolled back with the rest.
            read_only = options.dry_run and options.limits is None and not options.repair_spend
            done = resets.reset_windows(resets.Resets(conn, now, options.policy, options.rollover,
                                                      options.default_end_user_budget, read_only, options.dry_run))
            outcome.batches.extend(done.batches)
            outcome.changes.extend(done.changes)
            outcome.skipped.extend(done.skipped)
        if options.limits is not None:
            outcome.changes.extend(limits.apply(conn, options.limits, now, options.policy))
        if options.repair_spend:
            changes, skipped, warnings = repair.apply(
                conn, now, options.policy, settle=options.settle, min_drift=options.min_drift,
                default_end_user_budget=options.default_end_user_budget, buffered=_buffered(options))
            outcome.changes.extend(changes)
            outcome.skipped.extend(skipped)
            outcome.warnings.extend(warnings)
        if record:
            spent, limited = _refs(outcome)
            if spent or limited:
                recorded = owed.Owed(owed.record(conn, "budget sync", spent, limited), tuple(spent), tuple(limited))
        if not options.dry_run:
            attempt.xid = sqlfiles.run(conn, "budget/current_xact")
    return outcome, recorded


def _buffered(options: SyncOptions) -> Callable[[], Waiting] | None:
    """Counter repair's read of the spend waiting in the proxies' Redis buffers (with --redis-url,
    dry runs included: it only reads)."""
    if not options.redis_url:
        return None
    from litellm_dbctl.spend import buffer  # here: only repair with Redis needs it

    url, namespace = options.redis_url, options.redis_namespace
    return lambda: buffer.waiting(url, namespace)


def _release(lease: cache.Lease) -> str | None:
    """Give LiteLLM's reset-job lease back; a Redis failure here is only a warning (returned), since
    the lease expires by itself and the sync's own outcome or error matters more."""
    lost = (f"LiteLLM's reset-job lease was lost while syncing ({lease.lost}): a proxy may have run its "
            "budget reset meanwhile (row locks keep every window reset once)") if lease.lost else None
    try:
        lease.release()
    except cache.RedisError as exc:
        return (f"could not release LiteLLM's reset-job lease ({exc.message}): proxies skip their budget "
                f"resets until it expires ({LEASE_TTL_SECONDS} s)")
    return lost


def _stale_enforcement_warning(count: int) -> str:
    return (f"no --redis-url: live proxies keep enforcing the old spend of {count} changed entit"
            f"{'y' if count == 1 else 'ies'} from their counters: about {STALE_COUNTER_SECONDS} s after the "
            "entity's last request (LiteLLM's counter and object TTL), and for an entity in continuous use "
            "until the proxies restart; pass --redis-url to invalidate them now")


# -- cache references of what changed --------------------------------------------------------------


def _refs(outcome: Outcome) -> tuple[list[cache.EntityRef], list[cache.EntityRef]]:
    """(entities whose spend moved: counters and cached objects go; entities whose limits
    changed: only cached objects go, their counters may hold increments not yet in the database)."""
    spent = dict.fromkeys(ref for batch in outcome.batches for ref in _batch_refs(batch))
    limited: dict[cache.EntityRef, None] = {}
    for change in outcome.changes:  # an entity reset and then repaired is listed once
        if change.entity in CACHED_KINDS:
            ref = _ref(change.entity, change.id, change.name, change.team_id)
            (spent if _spent(change) else limited)[ref] = None
    return list(spent), [ref for ref in limited if ref not in spent]


def _spent_count(outcome: Outcome) -> int:
    """How many entities _refs() would list as spent, without building 10^5 references when
    only resets happened (the cron case)."""
    reset = sum(batch.counts()[0] for batch in outcome.batches if batch.entity in CACHED_KINDS)
    others = {_ref(c.entity, c.id, c.name, c.team_id) for c in outcome.changes
              if c.entity in CACHED_KINDS and _spent(c)}
    if others:
        others.difference_update(ref for batch in outcome.batches for ref in _batch_refs(batch))
    return reset + len(others)


def _batch_refs(batch: ResetBatch) -> list[cache.EntityRef]:
    """Entities of a batch whose spend moved (a reset, not a first budget_reset_at)."""
    if batch.entity not in CACHED_KINDS:
        return []
    return [_ref(batch.entity, row.id, row.name) for row in batch.reset_rows()]


def _ref(entity: str, id_: str, name: str | None, team_id: str | None = None) -> cache.EntityRef:
    """The cache reference of a changed entity; a team's `name` is its alias, which LiteLLM also
    caches it under (`team_alias:`)."""
    return cache.EntityRef.team(id_, name) if entity == "team" else cache.EntityRef(entity, id_, team_id)


def _spent(change: Change) -> bool:
    """Whether the change moved the entity's spend (its counters go too), not only its limits."""
    return "spend" in change.fields or change.action == "reset"
