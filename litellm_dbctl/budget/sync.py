"""Budgets kept right from cron: window resets, declared limits, counter repair, and status.

LiteLLM resets budget windows in a job inside the proxy (~every 10 minutes). With the proxy down
it misses resets, with several pods and no Redis it double-resets, and rows with a duration but
no budget_reset_at are zeroed or never reset (litellm-database.md §3). `sync` does the same work
set-based and safely beside live proxies:

- per entity table (keys, users, teams), the due rows are read and locked in key order
  (budget/due_*, the report); when there are any, one plain UPDATE resets that same selection
  (budget/reset_*) with the next budget_reset_at computed once per distinct duration
  (`durations.next_reset`). Locking in key order first means the reset never waits on a row it
  has not locked, so it cannot deadlock a proxy's sorted spend flush; the spend subtracted is the
  spend locked (an increment that arrives waits and then lands in the new window), and a window
  another run or a proxy's job moved meanwhile is no longer due when its lock is granted, so it is
  never reset twice. The UPDATE's rowcount must equal the rows locked. (Per 100k rows against a
  hand-written UPDATE: this 1.25x; one statement locking in a CTE and RETURNING the report 1.4x;
  shipping the plan back as per-row arrays 2-2.4x.) A dry run reads the same selection unlocked,
  unless declared limits or a repair follow: they depend on the reset, so it is applied (and rolled
  back) as in the real run, and the dry run's plan is the real run's;
- budget_limits windows of keys and teams (`budget_windows`) move as LiteLLM's job moves them;
- budget tiers are few: their due rows are locked and read first (the plan), then moved; a tier
  that became due in between makes the counts differ and the transaction is planned again;
- rows a budget tier's reset cascades to (end users, memberships, keys, orgs, tags, projects,
  model access groups) are not locked by the plan: their apply subtracts the spend read per row
  and checks each still holds the tier;
- declared limits from a budgets.yaml (`budget_limits`) are written only where they differ, after
  the resets (a due window closes under the limits it ran with);
- counter repair (`budget_repair`) recomputes each entity's spend in its current window from
  LiteLLM_SpendLogs and applies the drift as an increment;
- everything runs in one transaction under the budget family's advisory lock (and, with Redis,
  under the lease LiteLLM's own reset job takes, so no proxy resets meanwhile). `dry_run` runs the
  other statements and rolls back. After commit, Redis counters and cached objects of the changed
  entities are invalidated so proxies stop enforcing stale spend at once (§6).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from litellm_dbctl.cache import invalidate as cache
from litellm_dbctl.common import durations
from litellm_dbctl.common.durations import InvalidDuration, ResetPolicy
from litellm_dbctl.common.errors import InvalidInput, OperationalError
from litellm_dbctl.db import database, sqlfiles

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.budget.limits import LimitsSpec
    from litellm_dbctl.db.config import Target

log = logging.getLogger("dbctl")

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LEASE_KEY = "cronjob_lock:reset_budget_job"  # LiteLLM's reset-job lease (PodLockManager, §3.1)
LEASE_TTL_SECONDS = 300  # if dbctl dies holding it, proxies resume their resets after this
STALE_COUNTER_SECONDS = cache.DEFAULT_OBJECT_TTL_SECONDS
SORT_WORK_MEM = "64MB"  # 10^5 due rows sorted by key: ~10 MB; PostgreSQL's default 4MB spills to disk
# Entity kinds whose cached objects and spend counters LiteLLM keeps in Redis (cache.EntityRef.kind).
CACHED_KINDS = frozenset({"key", "user", "team", "org", "end_user", "tag", "team_member", "project",
                          "model_access_group"})


@dataclass(frozen=True, slots=True)
class Change:
    """One entity's change: what it was, what it becomes. `fields` maps a column to (old, new)."""

    entity: str  # key|user|team|budget|end_user|team_member|org|tag|project|model_access_group
    id: str
    name: str | None
    action: str  # reset|init|cascade|limits|repair
    fields: Mapping[str, tuple[Any, Any]]
    team_id: str | None = None  # team_member rows: the team (id is the user)
    via: str | None = None  # cascade, limits: the budget tier; repair: the window start


@dataclass(frozen=True, slots=True)
class Skip:
    """An entity left alone, and why."""

    entity: str
    id: str
    name: str | None
    reason: str


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
    statement_lock_timeout: str = "5s"
    redis_url: str | None = field(default=None, repr=False)
    redis_namespace: str | None = None


@dataclass(frozen=True)
class ResetBatch:
    """Window resets applied to one table, kept as the planned rows: Change objects are built
    only when asked for (a cron run with -q never pays for 100,000 of them)."""

    entity: str
    rows: Sequence[Any]  # due rows as planned and applied: named tuples of budget/due_*
    boundaries: Mapping[str, datetime]  # duration -> its next reset (aware UTC)
    rollover: bool

    @cached_property
    def _initialized(self) -> int:
        return sum(1 for row in self.rows if row.reset_us is None)

    def counts(self) -> tuple[int, int]:
        """(windows reset, budget_reset_at set where there was none)."""
        return len(self.rows) - self._initialized, self._initialized

    def changes(self) -> Iterator[Change]:
        for row in self.rows:
            following = self.boundaries[row.budget_duration]
            if row.reset_us is None:
                yield Change(self.entity, row.id, row.name, "init", {"budget_reset_at": (None, following)})
                continue
            fields: dict[str, tuple[Any, Any]] = {"budget_reset_at": (_from_us(row.reset_us), following)}
            if self.entity != "budget":
                new_spend = carry_over(row.spend, row.max_budget, self.rollover)
                fields = {"spend": (row.spend, new_spend), **fields}
            yield Change(self.entity, row.id, row.name, "reset", fields)

    def refs(self) -> Iterator[cache.EntityRef]:
        """Entities whose spend moved (a reset, not a first budget_reset_at)."""
        if self.entity in CACHED_KINDS:
            for row in self.rows:
                if row.reset_us is not None:
                    yield _ref(self.entity, row.id, row.name)


def _ref(entity: str, id_: str, name: str | None, team_id: str | None = None) -> cache.EntityRef:
    """The cache reference of a changed entity; a team's `name` is its alias, which LiteLLM also
    caches it under (`team_alias:`)."""
    return cache.EntityRef.team(id_, name) if entity == "team" else cache.EntityRef(entity, id_, team_id)


def carry_over(spend: float, max_budget: float | None, rollover: bool) -> float:
    """The spend a new window starts with: 0, or with rollover the overage over max_budget
    (LiteLLM's litellm_settings.budget_rollover). The reset statements apply the same rule."""
    if not rollover or max_budget is None:
        return 0.0
    return max(0.0, spend - max_budget)


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
    # proxies may keep enforcing (the database changes stand; a later sync finds nothing to redo).
    invalidation_error: str | None = None
    stale: tuple[cache.EntityRef, ...] = ()

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
    now = durations.utc_aware(options.now) if options.now else datetime.now(UTC)
    options.policy.zone(), options.policy.time_of_day()  # a bad --timezone/--reset-time: exit 2 before connecting
    conn = database.connect(target, command="budget sync", autocommit=True,
                            lock_timeout=options.statement_lock_timeout)
    with conn, database.advisory_lock(conn, database.family_key("budget"), timeout=options.lock_timeout,
                                what="budget sync"):
        lease = None
        if options.redis_url and not options.dry_run:
            lease = cache.Lease(options.redis_url, LEASE_KEY, ttl=LEASE_TTL_SECONDS,
                                namespace=options.redis_namespace)
            lease.acquire(timeout=options.lock_timeout, what="budget sync (a proxy's budget reset job)")
        invalidation = None
        failure: str | None = None
        stale: tuple[cache.EntityRef, ...] = ()
        try:
            run = _attempt(conn, options, now)
            warnings = list(run.warnings)
            if options.redis_url and not options.dry_run:
                spent, limited = run.refs()
                if spent or limited:
                    try:
                        invalidation = _invalidate(options, spent, limited)
                    except cache.RedisError as exc:  # committed: report it with the result, not instead
                        failure, stale = exc.message, (*spent, *limited)
            elif not options.dry_run and (spent_count := run.spent_count()):
                warnings.append(stale_enforcement_warning(spent_count))
        finally:
            unreleased = _release(lease) if lease is not None else None
    if unreleased:
        warnings.append(unreleased)
    return SyncResult(options.dry_run, now, options.policy, tuple(run.batches), tuple(run.changes),
                      tuple(run.skipped), tuple(warnings), invalidation, time.monotonic() - started,
                      failure, stale)


def _attempt(conn: psycopg.Connection, options: SyncOptions, now: datetime, *, tries: int = 3) -> _Run:
    """The whole sync transaction, repeated on deadlock or lock timeout (database.retry) and when
    the rows changed under the plan."""
    for number in range(1, tries + 1):
        try:
            return database.retry(lambda: _Run(conn, options, now).execute(), what="budget sync")
        except PlanChanged as exc:
            if number == tries:
                raise OperationalError(f"budget sync: rows keep changing under the plan ({exc})") from None
            log.debug("budget sync: %s; planning again", exc)
    raise AssertionError("unreachable")


def _release(lease: cache.Lease) -> str | None:
    """Give LiteLLM's reset-job lease back; a Redis failure here is only a warning (returned), since
    the lease expires by itself and the sync's own outcome or error matters more."""
    try:
        lease.release()
    except cache.RedisError as exc:
        return (f"could not release LiteLLM's reset-job lease ({exc.message}): proxies skip their budget "
                f"resets until it expires ({LEASE_TTL_SECONDS} s)")
    return None


def _invalidate(options: SyncOptions, spent: list[cache.EntityRef],
                limited: list[cache.EntityRef]) -> cache.Invalidation:
    assert options.redis_url is not None
    both = [cache.invalidate(options.redis_url, refs, namespace=options.redis_namespace, counters=counters)
            for refs, counters in ((spent, True), (limited, False)) if refs]
    return cache.Invalidation(sum(i.deleted for i in both), sum(i.published for i in both),
                              sum(i.receivers for i in both))


def stale_enforcement_warning(count: int) -> str:
    return (f"no --redis-url: live proxies keep enforcing the old spend of {count} changed entit"
            f"{'y' if count == 1 else 'ies'} from their counters: about {STALE_COUNTER_SECONDS} s after the "
            "entity's last request (LiteLLM's counter and object TTL), and for an entity in continuous use "
            "until the proxies restart; pass --redis-url to invalidate them now")


def _spent(change: Change) -> bool:
    """Whether the change moved the entity's spend (its counters go too), not only its limits."""
    return "spend" in change.fields or change.action == "reset"


class PlanChanged(Exception):
    """A row became due between the plan and the apply (only a hand edit can do that): plan again."""


class _Run:
    """One attempt at the whole sync: a transaction, retried from scratch on deadlock."""

    def __init__(self, conn: psycopg.Connection, options: SyncOptions, now: datetime) -> None:
        self.conn = conn
        self.options = options
        self.now = now
        self.db_now = durations.utc_naive(now)
        self.batches: list[ResetBatch] = []
        self.changes: list[Change] = []  # all but the window resets of the batches
        self.skipped: list[Skip] = []
        self.warnings: list[str] = []
        self._next: dict[str, datetime | None] = {}
        # A dry run only reads the due rows (no locks on rows proxies write), unless limits or a
        # repair follow: they must see the windows as the real run leaves them, so then the resets
        # are applied too and rolled back with the rest.
        self.read_only_resets = options.dry_run and options.limits is None and not options.repair_spend

    def execute(self) -> _Run:
        import psycopg

        with self.conn.transaction() as tx:
            # due rows are sorted into key order before they are locked: in memory, not on disk
            sqlfiles.run(self.conn, "session/tune_transaction", {"work_mem": SORT_WORK_MEM})
            # Resets first: a due window closes under the limits it ran with (a duration the file
            # changes would otherwise move budget_reset_at past it, and its spend would carry over).
            if self.options.resets:
                self._reset_windows()
            if self.options.limits is not None:
                from litellm_dbctl.budget import limits as budget_limits

                self.changes.extend(budget_limits.apply(self.conn, self.options.limits, self.now,
                                                        self.options.policy))
            if self.options.repair_spend:
                self._repair_spend()
            if self.options.dry_run:
                raise psycopg.Rollback(tx)
        return self

    def refs(self) -> tuple[list[cache.EntityRef], list[cache.EntityRef]]:
        """(entities whose spend moved: counters and cached objects go; entities whose limits
        changed: only cached objects go, their counters may hold increments not yet in the database)."""
        spent = dict.fromkeys(ref for batch in self.batches for ref in batch.refs())
        limited: dict[cache.EntityRef, None] = {}
        for change in self.changes:  # an entity reset and then repaired is listed once
            if change.entity in CACHED_KINDS:
                ref = _ref(change.entity, change.id, change.name, change.team_id)
                (spent if _spent(change) else limited)[ref] = None
        return list(spent), [ref for ref in limited if ref not in spent]

    def spent_count(self) -> int:
        """How many entities refs() would list as spent, without building 10^5 references when
        only resets happened (the cron case)."""
        reset = sum(batch.counts()[0] for batch in self.batches if batch.entity in CACHED_KINDS)
        others = {_ref(c.entity, c.id, c.name, c.team_id) for c in self.changes
                  if c.entity in CACHED_KINDS and _spent(c)}
        if others:
            others.difference_update(ref for batch in self.batches for ref in batch.refs())
        return reset + len(others)

    # -- window resets ---------------------------------------------------------------------------

    def next_reset(self, duration: str) -> datetime | None:
        """The next boundary for `duration` from now, once per distinct duration; None when unusable."""
        if duration not in self._next:
            try:
                following = durations.next_reset(duration, self.now, self.options.policy)
            except InvalidDuration:
                following = None
            self._next[duration] = following if following is not None and following > self.now else None
        return self._next[duration]

    def _reset_windows(self) -> None:
        from litellm_dbctl.budget import windows as budget_windows

        for entity, plural in (("key", "keys"), ("user", "users"), ("team", "teams")):
            self._reset_table(entity, plural)
        self._reset_tiers()
        changes, skipped = budget_windows.apply(self.conn, self.now, self.options.policy,
                                                rollover=self.options.rollover, dry_run=self.options.dry_run)
        self.changes.extend(changes)
        self.skipped.extend(skipped)

    def _boundaries(self, durations_: Iterable[str]) -> tuple[dict[str, datetime], set[str]]:
        """(each usable duration's next boundary, the durations that have none)."""
        boundaries: dict[str, datetime] = {}
        unusable: set[str] = set()
        for duration in durations_:
            following = self.next_reset(duration)
            if following is None:
                unusable.add(duration)
            else:
                boundaries[duration] = following
        return boundaries, unusable

    def _plan(self, entity: str, plural: str, *, lock: bool) -> tuple[list[Any], dict[str, datetime]]:
        """The due rows (budget/due_*, named tuples, locked in key order when `lock`) whose duration
        has a next boundary, and each such duration's boundary; the others are reported skipped."""
        rows = sqlfiles.run(self.conn, f"budget/due_{plural}", {"now": self.db_now}, row_type=tuple, lock=lock)
        boundaries, unusable = self._boundaries({row.budget_duration for row in rows})
        if unusable:
            self.skipped.extend(Skip(entity, row.id, row.name, f"budget_duration {row.budget_duration!r} has no "
                                     "next reset (LiteLLM rejects it); fix the duration")
                                for row in rows if row.budget_duration in unusable)
            rows = [row for row in rows if row.budget_duration not in unusable]
        return rows, boundaries

    def _params(self, boundaries: Mapping[str, datetime]) -> dict[str, Any]:
        return {"durations": list(boundaries),
                "next_reset_at": [durations.utc_naive(b) for b in boundaries.values()],
                "now": self.db_now}

    def _reset_table(self, entity: str, plural: str) -> None:
        """Lock and read the due rows (a dry run only reads them), then reset that selection with one
        UPDATE (budget/reset_*)."""
        rows, boundaries = self._plan(entity, plural, lock=not self.read_only_resets)
        if not rows:
            return
        if not self.read_only_resets:
            reset = sqlfiles.run(self.conn, f"budget/reset_{plural}",
                                 {**self._params(boundaries), "rollover": self.options.rollover})
            if reset != len(rows):
                raise PlanChanged(f"{plural}: {len(rows)} due rows locked, {reset} reset")
        self.batches.append(ResetBatch(entity, rows, boundaries, self.options.rollover))

    def _reset_tiers(self) -> None:
        """Budget tiers: move each due tier's window, then reset the rows linked to the tiers that moved."""
        rows, boundaries = self._plan("budget", "budgets", lock=True)
        if not rows:
            return
        due = {row.id: row for row in rows if row.reset_us is not None}
        members = sqlfiles.run(self.conn, "budget/due_tier_members", {
            "tiers": sorted(due), "default_end_user_budget": self.options.default_end_user_budget,
        }) if due else []
        moved = {r["id"] for r in sqlfiles.run(self.conn, "budget/reset_budgets", self._params(boundaries))}
        if moved != {row.id for row in rows}:
            raise PlanChanged(f"budget tiers: planned {len(rows)} resets, applied {len(moved)}")
        self.batches.append(ResetBatch("budget", rows, boundaries, self.options.rollover))
        if not members:
            return
        rollover = self.options.rollover
        decrements = [m["spend"] - carry_over(m["spend"], due[m["tier"]].max_budget, rollover) for m in members]
        done = {(r["entity"], r["id"], r["team_id"]) for r in sqlfiles.run(self.conn, "budget/reset_tier_members", {
            "entities": [m["entity"] for m in members], "ids": [m["id"] for m in members],
            "team_ids": [m["team_id"] for m in members], "tiers": [m["tier"] for m in members],
            "budget_ids": [m["budget_id"] for m in members], "decrements": decrements,
            "reset_tiers": sorted(due),
        })}
        for member, decrement in zip(members, decrements):
            if (member["entity"], member["id"], member["team_id"]) in done:
                self.changes.append(Change(member["entity"], member["id"], member["name"], "cascade",
                                           {"spend": (member["spend"], member["spend"] - decrement)},
                                           team_id=member["team_id"], via=member["tier"]))
            else:
                self.skipped.append(Skip(member["entity"], member["id"], member["name"],
                                         f"left budget tier {member['tier']} since it was read"))

    # -- counter repair --------------------------------------------------------------------------

    def _repair_spend(self) -> None:
        from litellm_dbctl.budget import repair as budget_repair

        changes, skipped, warnings = budget_repair.apply(self.conn, self.now, self.options)
        self.changes.extend(changes)
        self.skipped.extend(skipped)
        self.warnings.extend(warnings)


# -- helpers ------------------------------------------------------------------------------------




def _from_us(microseconds: int) -> datetime:
    """A timestamp the database sent as microseconds since the epoch, as aware UTC."""
    return EPOCH + timedelta(microseconds=microseconds)




# -- status -------------------------------------------------------------------------------------

STATUS_ENTITIES = ("key", "user", "team", "org", "end_user", "tag", "team_member")


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """One entity's spend against its budget. `flag`: over (spend >= max_budget: LiteLLM rejects its
    requests), soft (spend >= soft_budget), near (>= the near share of max_budget), or ok."""

    entity: str
    id: str
    name: str | None
    team_id: str | None
    org_id: str | None
    spend: float
    max_budget: float | None
    soft_budget: float | None
    used_pct: float | None  # of max_budget; None without one (or when it is 0)
    budget_duration: str | None
    next_reset: datetime | None
    reset_overdue: bool  # budget_reset_at has passed and no reset has moved it yet
    flag: str


def status(
    conn: psycopg.Connection,
    *,
    entities: Iterable[str] = STATUS_ENTITIES,
    team: str | None = None,
    org: str | None = None,
    near_pct: float = 80.0,
    only: str = "all",
    everything: bool = False,
    limit: int | None = None,
    default_end_user_budget: str | None = None,
    now: datetime | None = None,
) -> list[BudgetStatus]:
    """Spend against max and soft budget per entity, most used first (see budget/status)."""
    kinds = list(dict.fromkeys(entities))
    unknown = [k for k in kinds if k not in STATUS_ENTITIES]
    if unknown:
        raise InvalidInput(f"unknown entity type {unknown[0]!r} (expected {', '.join(STATUS_ENTITIES)})")
    if only not in ("all", "flagged", "over"):
        raise InvalidInput(f"only must be all, flagged or over, not {only!r}")
    moment = durations.utc_aware(now) if now else datetime.now(UTC)
    rows = sqlfiles.run(conn, "budget/status", {
        "entities": kinds, "team": team, "org": org, "everything": everything, "only": only,
        "near": near_pct / 100, "limit": limit, "now": durations.utc_naive(moment),
        "default_end_user_budget": default_end_user_budget,
    })
    return [_status(row, near_pct, moment) for row in rows]


def _status(row: Mapping[str, Any], near_pct: float, now: datetime) -> BudgetStatus:
    spend, max_budget, soft_budget = row["spend"], row["max_budget"], row["soft_budget"]
    used = spend / max_budget * 100 if max_budget else None
    if max_budget is not None and spend >= max_budget:
        flag = "over"
    elif soft_budget is not None and spend >= soft_budget:
        flag = "soft"
    elif used is not None and used >= near_pct:
        flag = "near"
    else:
        flag = "ok"
    next_reset = durations.utc_aware(row["next_reset"]) if row["next_reset"] else None
    return BudgetStatus(row["entity"], row["id"], row["name"], row["team_id"], row["org_id"], spend, max_budget,
                        soft_budget, None if used is None else round(used, 2), row["budget_duration"], next_reset,
                        next_reset is not None and next_reset <= now, flag)
