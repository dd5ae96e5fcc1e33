"""Budgets kept right from cron: window resets, declared limits, counter repair, and status.

LiteLLM resets budget windows in a job inside the proxy (~every 10 minutes). With the proxy down
it misses resets, with several pods and no Redis it double-resets, and rows with a duration but
no budget_reset_at are zeroed or never reset (litellm-database.md §3). `sync` does the same work
set-based and safely beside live proxies:

- one statement per entity table finds the due rows (and locks them in key order), the next
  budget_reset_at is computed once per distinct duration (`durations.next_reset`), and one UPDATE
  per table applies them from arrays: spend drops by what was read (increments that land meanwhile
  survive) and each row is guarded by its old budget_reset_at, so a window is never reset twice;
- declared limits from a budgets.yaml (`budget_limits` parses and validates it) are written only where
  they differ; a changed budget_duration moves budget_reset_at, spend is left alone;
- counter repair recomputes each entity's spend in its current window from LiteLLM_SpendLogs and
  applies the drift as an increment, leaving entities with recent activity alone;
- everything runs in one transaction under the budget family's advisory lock (and, with Redis,
  under the lease LiteLLM's own reset job takes, so no proxy resets meanwhile). `dry_run` runs the
  same statements and rolls back. After commit, Redis counters and cached objects of the changed
  entities are invalidated so proxies stop enforcing stale spend at once (§6).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from litellm_dbctl import cache, database, durations, sqlfiles
from litellm_dbctl.durations import InvalidDuration, ResetPolicy
from litellm_dbctl.errors import InvalidInput

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.config import Target
    from litellm_dbctl.budget_limits import LimitsSpec

log = logging.getLogger("dbctl")

UTC = timezone.utc
LEASE_KEY = "cronjob_lock:reset_budget_job"  # LiteLLM's reset-job lease (PodLockManager, §3.1)
LEASE_TTL_SECONDS = 300  # if dbctl dies holding it, proxies resume their resets after this
STALE_COUNTER_SECONDS = cache.DEFAULT_OBJECT_TTL_SECONDS
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
    via: str | None = None  # cascade: the budget tier; repair: the window start


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
class SyncResult:
    dry_run: bool
    now: datetime
    policy: ResetPolicy
    changes: tuple[Change, ...]
    skipped: tuple[Skip, ...]
    warnings: tuple[str, ...]
    invalidation: cache.Invalidation | None
    seconds: float

    @property
    def pending(self) -> bool:
        """Something changed (or, in a dry run, would)."""
        return bool(self.changes)

    def counts(self) -> dict[str, int]:
        counts = {"reset": 0, "init": 0, "cascade": 0, "limits": 0, "repair": 0}
        for change in self.changes:
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
    now = _aware(options.now) if options.now else datetime.now(UTC)
    options.policy.zone(), options.policy.time_of_day()  # a bad --timezone/--reset-time: exit 2 before connecting
    conn = database.connect(target, command="budget sync", autocommit=True,
                            lock_timeout=options.statement_lock_timeout)
    with conn:
        with database.advisory_lock(conn, database.family_key("budget"), timeout=options.lock_timeout,
                                    what="budget sync"):
            lease = None
            if options.redis_url and not options.dry_run:
                lease = cache.Lease(options.redis_url, LEASE_KEY, ttl=LEASE_TTL_SECONDS,
                                    namespace=options.redis_namespace)
                lease.acquire(timeout=options.lock_timeout, what="budget sync (a proxy's budget reset job)")
            try:
                run = database.retry(lambda: _Run(conn, options, now).execute(), what="budget sync")
                invalidation = None
                warnings = list(run.warnings)
                spent, limited = run.refs()
                if options.redis_url and not options.dry_run and (spent or limited):
                    invalidation = _invalidate(options, spent, limited)
                elif spent and not options.dry_run:
                    warnings.append(stale_enforcement_warning(len(spent)))
            finally:
                if lease is not None:
                    lease.release()
    return SyncResult(options.dry_run, now, options.policy, tuple(run.changes), tuple(run.skipped),
                      tuple(warnings), invalidation, time.monotonic() - started)


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


class _Run:
    """One attempt at the whole sync: a transaction, retried from scratch on deadlock."""

    def __init__(self, conn: psycopg.Connection, options: SyncOptions, now: datetime) -> None:
        self.conn = conn
        self.options = options
        self.now = now
        self.db_now = _naive(now)
        self.changes: list[Change] = []
        self.skipped: list[Skip] = []
        self.warnings: list[str] = []
        self._next: dict[str, datetime | None] = {}

    def execute(self) -> _Run:
        import psycopg

        with self.conn.transaction() as tx:
            if self.options.limits is not None:
                from litellm_dbctl import budget_limits

                changes, skipped = budget_limits.apply(self.conn, self.options.limits, self.now, self.options.policy)
                self.changes.extend(changes)
                self.skipped.extend(skipped)
            if self.options.resets:
                self._reset_windows()
            if self.options.repair_spend:
                self._repair_spend()
            if self.options.dry_run:
                raise psycopg.Rollback(tx)
        return self

    def refs(self) -> tuple[list[cache.EntityRef], list[cache.EntityRef]]:
        """(entities whose spend moved: counters and cached objects go; entities whose limits
        changed: only cached objects go, their counters may hold increments not yet in the database)."""
        spent, limited = [], []
        for change in self.changes:
            if change.entity in CACHED_KINDS:
                ref = cache.EntityRef(change.entity, change.id, change.team_id)
                (spent if "spend" in change.fields else limited).append(ref)
        return spent, limited

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
        for entity, plural in (("key", "keys"), ("user", "users"), ("team", "teams")):
            self._reset_table(entity, plural)
        self._reset_tiers()

    def _plan_rows(self, entity: str, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], float, datetime]]:
        """(row, decrement, new budget_reset_at) for rows whose duration gives a next reset."""
        planned = []
        for row in rows:
            following = self.next_reset(row["budget_duration"])
            if following is None:
                self.skipped.append(Skip(entity, row["id"], row["name"],
                                         f"budget_duration {row['budget_duration']!r} has no next reset "
                                         "(LiteLLM rejects it); fix the duration"))
                continue
            decrement = 0.0 if row["budget_reset_at"] is None else row["spend"] - self.carry(row["spend"], row["max_budget"])
            planned.append((row, decrement, following))
        return planned

    def carry(self, spend: float, max_budget: float | None) -> float:
        """The spend the new window starts with: 0, or with rollover the overage (LiteLLM's rule)."""
        if not self.options.rollover or max_budget is None:
            return 0.0
        return max(0.0, spend - max_budget)

    def _reset_table(self, entity: str, plural: str) -> None:
        rows = sqlfiles.run(self.conn, f"budget/due_{plural}", {"now": self.db_now})
        planned = self._plan_rows(entity, rows)
        if not planned:
            return
        applied = {r["id"] for r in sqlfiles.run(self.conn, f"budget/reset_{plural}", {
            "ids": [row["id"] for row, _, _ in planned],
            "decrements": [decrement for _, decrement, _ in planned],
            "old_reset_at": [row["budget_reset_at"] for row, _, _ in planned],
            "new_reset_at": [_naive(following) for _, _, following in planned],
        })}
        for row, decrement, following in planned:
            self._record(entity, row, decrement, following, applied)

    def _record(self, entity: str, row: Mapping[str, Any], decrement: float, following: datetime,
                applied: set[str]) -> None:
        if row["id"] not in applied:
            self.skipped.append(Skip(entity, row["id"], row["name"],
                                     "budget_reset_at moved since it was read (another run or a proxy reset it)"))
            return
        old_reset = _aware(row["budget_reset_at"]) if row["budget_reset_at"] else None
        if old_reset is None:
            self.changes.append(Change(entity, row["id"], row["name"], "init",
                                       {"budget_reset_at": (None, following)}))
            return
        fields: dict[str, tuple[Any, Any]] = {"budget_reset_at": (old_reset, following)}
        if entity != "budget":
            fields = {"spend": (row["spend"], row["spend"] - decrement), **fields}
        self.changes.append(Change(entity, row["id"], row["name"], "reset", fields))

    def _reset_tiers(self) -> None:
        """Budget tiers: move each due tier's window, then reset the rows linked to the tiers that moved."""
        rows = sqlfiles.run(self.conn, "budget/due_budgets", {"now": self.db_now})
        planned = self._plan_rows("budget", rows)
        if not planned:
            return
        due = {row["id"]: row for row, _, _ in planned if row["budget_reset_at"] is not None}
        members = sqlfiles.run(self.conn, "budget/due_tier_members", {
            "tiers": sorted(due), "default_end_user_budget": self.options.default_end_user_budget,
        }) if due else []
        applied = {r["id"] for r in sqlfiles.run(self.conn, "budget/reset_budgets", {
            "ids": [row["id"] for row, _, _ in planned],
            "old_reset_at": [row["budget_reset_at"] for row, _, _ in planned],
            "new_reset_at": [_naive(following) for _, _, following in planned],
        })}
        for row, decrement, following in planned:
            self._record("budget", row, decrement, following, applied)
        reset_tiers = sorted(tier for tier in due if tier in applied)
        if not members or not reset_tiers:
            return
        decrements = [m["spend"] - self.carry(m["spend"], due[m["tier"]]["max_budget"]) for m in members]
        done = {(r["entity"], r["id"], r["team_id"]) for r in sqlfiles.run(self.conn, "budget/reset_tier_members", {
            "entities": [m["entity"] for m in members], "ids": [m["id"] for m in members],
            "team_ids": [m["team_id"] for m in members], "tiers": [m["tier"] for m in members],
            "budget_ids": [m["budget_id"] for m in members], "decrements": decrements, "reset_tiers": reset_tiers,
        })}
        for member, decrement in zip(members, decrements):
            if (member["entity"], member["id"], member["team_id"]) in done:
                self.changes.append(Change(member["entity"], member["id"], member["name"], "cascade",
                                           {"spend": (member["spend"], member["spend"] - decrement)},
                                           team_id=member["team_id"], via=member["tier"]))
            elif member["tier"] in reset_tiers:
                self.skipped.append(Skip(member["entity"], member["id"], member["name"],
                                         f"left budget tier {member['tier']} since it was read"))

    # -- counter repair --------------------------------------------------------------------------

    def _repair_spend(self) -> None:
        from litellm_dbctl import budget_repair

        changes, skipped, warnings = budget_repair.apply(self.conn, self.now, self.options)
        self.changes.extend(changes)
        self.skipped.extend(skipped)
        self.warnings.extend(warnings)


# -- helpers ------------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    """Database timestamps are naive UTC; dbctl's API speaks aware UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _naive(moment: datetime) -> datetime:
    """For LiteLLM's TIMESTAMP(3) columns (naive, holding UTC): never let the session TimeZone convert."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


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
    moment = _aware(now) if now else datetime.now(UTC)
    rows = sqlfiles.run(conn, "budget/status", {
        "entities": kinds, "team": team, "org": org, "everything": everything, "only": only,
        "near": near_pct / 100, "limit": limit, "now": _naive(moment),
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
    next_reset = _aware(row["next_reset"]) if row["next_reset"] else None
    return BudgetStatus(row["entity"], row["id"], row["name"], row["team_id"], row["org_id"], spend, max_budget,
                        soft_budget, None if used is None else round(used, 2), row["budget_duration"], next_reset,
                        next_reset is not None and next_reset <= now, flag)
