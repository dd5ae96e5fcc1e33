"""Applying a plan, and the whole run: plan, apply, commit, tell the proxies.

Apply locks the rows it will change in sorted key order (as LiteLLM's spend flush does, so the two
never deadlock), checks that no field the plan compared changed since it was read (else re-plans; a
proxy's spend increment on a planned row is no change), takes
LiteLLM's per-team roster lock (`pg_advisory_xact_lock(hashtext(team_id))`), then writes only what
changed with one statement per table. An unchanged spec writes nothing at all.

After the commit, the proxies' cached copies of what changed are dropped through their Redis
(`Options.redis_url`); a Redis failure then is reported with the outcome, not raised instead of it:
the changes stand, and a created raw key must still reach the operator. What is owed is recorded in
the same transaction (cache/owed.py), so a run killed after its COMMIT leaves it to the next run
with `--redis-url`, which finishes it first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import psycopg
import psycopg.errors

from litellm_dbctl.cache import invalidate as cache
from litellm_dbctl.cache import owed
from litellm_dbctl.cache.invalidate import EntityRef
from litellm_dbctl.common import pausepoints
from litellm_dbctl.common.clock import utc_naive
from litellm_dbctl.common.errors import DbctlError, ExitCode, OperationalError
from litellm_dbctl.common.redaction import redact
from litellm_dbctl.db import bulk, database, sqlfiles
from litellm_dbctl.provision import keysout, prune_exec
from litellm_dbctl.provision.keysout import KeysOut
from litellm_dbctl.provision.plan import FAMILY, KINDS, UNCHANGED, Item, Options, Plan, Summary
from litellm_dbctl.provision.planner import make_plan
from litellm_dbctl.provision.spec_records import Spec
from litellm_dbctl.provision.tokens import CreatedKey

if TYPE_CHECKING:
    from litellm_dbctl.db.config import Target

log = logging.getLogger("dbctl")

class StalePlan(Exception):
    """A row changed between reading the plan and locking it: the transaction is re-planned."""


def apply_plan(conn: psycopg.Connection, plan: Plan, options: Options) -> int:
    """Lock, verify and write the plan inside the caller's transaction; returns rows written."""
    for team_id in plan.roster_locks:
        sqlfiles.run(conn, "team/lock_roster", {"team_id": team_id})
    for lock in plan.locks:
        found = {r["id"]: r["seen"] for r in sqlfiles.run(conn, lock.query, lock.params)}
        if found != dict(lock.expected):
            raise StalePlan(lock.query)
    written = 0
    now = utc_naive(plan.now)
    assert now is not None
    for step in plan.steps:
        try:
            count = bulk.write(conn, step.query, step.rows, now=now, actor=options.actor, identifiers=step.identifiers)
        except psycopg.errors.UniqueViolation as exc:  # a row created meanwhile: re-plan
            raise StalePlan(step.query) from exc
        if count != step.expect:
            raise StalePlan(f"{step.query}: {count} of {step.expect} rows")
        written += count
    if plan.prune:  # after the steps: the rows the plan keeps are written before what they pointed at goes
        try:
            written += prune_exec.execute(conn, plan.prune, now=now, actor=options.actor)
        except prune_exec.Stale as exc:
            raise StalePlan(str(exc)) from exc
    return written


REPLANS = 5  # plans one provisioning transaction may make before rows that keep changing end it


def kept_changing(what: str) -> Callable[[Exception], OperationalError]:
    """`database.retry`'s `gave_up` for a plan that went stale `REPLANS` times (`StalePlan`)."""
    return lambda exc: OperationalError(
        f"{what}: rows kept changing while dbctl planned; gave up after {REPLANS} attempts",
        hint="a proxy or another tool is rewriting the same rows; retry")


@dataclass(frozen=True)
class Invalidated:
    """What dropping the proxies' cached copies did after a commit: the Redis result, or the error
    that left `refs` stale (proxies serve them until their cache TTL ends)."""

    refs: tuple[EntityRef, ...]
    result: cache.Invalidation | None = None
    error: str | None = None


def invalidate(refs: Iterable[EntityRef], options: Options) -> Invalidated | None:
    """Drop the proxies' cached copies of changed objects (litellm-database.md §6), never their spend
    counters: provisioning changes no spend, and the counters hold increments the proxies have not
    flushed to the database yet (deleting them re-seeds from the lagging column, undercounting).
    None when there is nothing to drop or no Redis to drop it from. Call it after the commit."""
    changed = tuple(refs)
    if not changed or not options.redis_url:
        return None
    try:
        result = cache.invalidate(options.redis_url, changed, namespace=options.redis_namespace, counters=False)
    except DbctlError as exc:
        return Invalidated(changed, error=redact(exc.message))
    except Exception as exc:  # committed already: whatever Redis does is reported with the outcome
        return Invalidated(changed, error=redact(f"{type(exc).__name__}: {exc}"))
    return Invalidated(changed, result)


@dataclass(frozen=True)
class Chunk:
    number: int
    users: int
    summary: Summary
    written: int


@dataclass(frozen=True)
class Outcome:
    plan: Plan  # the whole spec's plan, as read before anything was written
    applied: bool
    chunks: tuple[Chunk, ...] = ()
    created_keys: tuple[CreatedKey, ...] = ()
    written: int = 0
    invalidated: Invalidated | None = None  # the proxies' caches, after the commit (None: not told)
    owed: tuple[int, ...] = ()  # dbctl_pending_invalidations rows recording what the proxies are owed

    @property
    def refs(self) -> tuple[EntityRef, ...]:
        return self.plan.refs


def told(outcome: Outcome, options: Options, conn: psycopg.Connection | None = None) -> Outcome:
    """`outcome` with the proxies told of what it committed (`tell`)."""
    if not (outcome.applied and outcome.written):
        return outcome
    invalidated = tell(outcome.refs, outcome.owed, options, conn)
    if invalidated is None:
        return outcome
    return Outcome(outcome.plan, outcome.applied, outcome.chunks, outcome.created_keys, outcome.written,
                   invalidated, outcome.owed)


def owe(conn: psycopg.Connection, command: str, refs: Sequence[EntityRef], options: Options) -> tuple[int, ...]:
    """Inside the transaction that changes `refs`: record the cached-object invalidations it will owe
    from its COMMIT on (only with a Redis to tell; `finish_earlier` made the table). The row ids."""
    if not (options.redis_url and refs):
        return ()
    return owed.record(conn, command, (), refs)


def tell(refs: Iterable[EntityRef], ids: Sequence[int], options: Options,
         conn: psycopg.Connection | None) -> Invalidated | None:
    """After the commit: drop the proxies' cached copies of `refs` (`invalidate`); once Redis has them,
    the `owed` rows recording them (`ids`) go. A Redis failure leaves them for the next run."""
    invalidated = invalidate(refs, options)
    if invalidated is not None and invalidated.error is None and ids and conn is not None \
            and not owed.done(conn, ids):
        log.debug("owed invalidations %s left recorded: the next run repeats them", list(ids))
    return invalidated


def finish_earlier(conn: psycopg.Connection, options: Options) -> None:
    """Finish the cached-object invalidations earlier runs recorded and did not do (killed after their
    commit, or Redis failed), before this run changes anything; a Redis failure ends the run (nothing
    changed). Spend counters a budget sync owes are left to budget sync, which holds LiteLLM's lease."""
    assert options.redis_url is not None
    done = owed.finish_earlier(conn, options.redis_url, counters=False, namespace=options.redis_namespace)
    if done is not None:
        log.info("finished the invalidations earlier runs owed the proxies: %d key(s) deleted, %d published",
                 done.deleted, done.published)


class ChunkFailed(DbctlError):
    """A `--batch-size` chunk failed. The chunks before it stay committed (each is its own transaction)
    and `outcome` holds what they wrote, so the caller can still report it; the message keeps the
    cause's text and exit code and says how far the run got, since a re-run finishes the rest. Exit 2
    says nothing changed: after a committed chunk, a usage error is exit 1."""

    def __init__(self, number: int, total: int, outcome: Outcome, cause: Exception) -> None:
        if isinstance(cause, DbctlError):
            text, hint, self.exit_code = cause.message, cause.hint, cause.exit_code
            if number > 1 and self.exit_code == ExitCode.USAGE:
                self.exit_code = ExitCode.ERROR
        else:  # a statement failed: worded as the CLI words any database error
            text, hint = "database error: " + (str(cause).strip().splitlines() or [type(cause).__name__])[0], None
        users = sum(c.users for c in outcome.chunks)
        done = "nothing is committed" if number == 1 else \
            f"chunk 1 ({users} users) is committed, and a re-run finishes the rest" if number == 2 else \
            f"chunks 1-{number - 1} ({users} users) are committed, and a re-run finishes the rest"
        super().__init__(f"chunk {number}/{total} failed; {done}: {text}", hint=hint)
        self.number, self.total, self.outcome = number, total, outcome


def run(
    target: Target,
    spec: Spec,
    *,
    options: Options = Options(),
    dry_run: bool = False,
    batch_size: int | None = None,
    lock_timeout: float = 30.0,
    command: str = "provision",
    on_chunk: Callable[[Chunk, int], None] | None = None,
    now: datetime | None = None,
    keys_out: KeysOut | None = None,
) -> Outcome:
    """Plan `spec` and, unless `dry_run`, apply it: one transaction, or one per `batch_size` users;
    then drop the proxies' cached copies of what changed (`options.redis_url`).

    `--dry-run` executes the real statements in a transaction that is rolled back. Every
    transaction holds the provisioning advisory lock, so two runs never interleave; a stale plan,
    deadlock or lock timeout re-runs the whole transaction. Waits on row locks (a proxy's open
    transaction) are bounded by `lock_timeout` in all, then LockBusy names the holder. With
    `keys_out`, the raw keys a transaction creates are written there (fsynced) before its COMMIT.
    """
    moment = now or datetime.now(timezone.utc)
    try:
        # Each attempt waits briefly on a row lock; `wait` bounds them all by `lock_timeout`.
        conn = database.connect(target, command=command, lock_timeout=database.attempt_lock_timeout(lock_timeout))
    except OperationalError:
        spec.check()  # the file's own problems are worth more than "database unreachable"
        raise
    with conn, database.LockWait(target, timeout=lock_timeout, what="provisioning", command=command) as wait:
        wait.attach(conn)
        record = bool(options.redis_url) and not dry_run
        if record:
            finish_earlier(conn, options)

        def attempt(sub: Spec, *, execute: bool, commit: bool) -> tuple[Plan, int, tuple[int, ...]]:
            """Plan `sub` under the provisioning lock; execute it (dry run: then roll back). Run
            again, whole, when the plan went stale or hit a deadlock or lock timeout."""
            def once() -> tuple[Plan, int, tuple[int, ...]]:
                ids = tuple[int, ...]()
                with keysout.until_commit(keys_out, conn) as keep, conn.transaction(force_rollback=not commit), \
                        database.advisory_lock(conn, database.family_key(FAMILY), timeout=lock_timeout,
                                               what="provisioning", scope="xact"):
                    plan = make_plan(conn, sub, options, moment, target)
                    written = apply_plan(conn, plan, options) if execute and plan.changed else 0
                    if record and commit and written:  # owed from the COMMIT on
                        ids = owe(conn, command, plan.refs, options)
                    if commit:
                        keep(plan.created_keys)
                return plan, written, ids

            return database.retry(once, what="provisioning", replan=(StalePlan,), replans=REPLANS,
                                  gave_up=kept_changing("provisioning"), wait=wait)

        if batch_size is None or dry_run or len(spec.users) <= batch_size:
            plan, written, ids = attempt(spec, execute=True, commit=not dry_run)
            pausepoints.pause("AFTER_COMMIT")
            if dry_run:
                return Outcome(plan, False)
            return told(Outcome(plan, True, (Chunk(1, len(spec.users), plan.summary(), written),),
                                plan.created_keys, written, owed=ids), options, conn)

        full, _, _ = attempt(spec, execute=False, commit=False)  # the whole file's plan and problems
        chunks: list[Chunk] = []
        keys: list[CreatedKey] = []
        refs: list[EntityRef] = []
        owed_ids: list[int] = []
        first = {m.user for m in spec.memberships if m.on_create}  # while their teams are still being created
        indexes = sorted(range(len(spec.users)), key=lambda i: i not in first)
        starts = list(range(0, len(indexes), batch_size))
        total = 0
        committed: list[Plan] = []
        for number, start in enumerate(starts, 1):
            sub = spec.subset(indexes[start:start + batch_size], with_keys=number == len(starts))
            try:
                plan, written, ids = attempt(sub, execute=True, commit=True)
            except (DbctlError, psycopg.Error) as exc:  # chunks 1..number-1 stay committed: say so, with them
                done = Plan(_merged_items(committed), refs=_merged_refs(refs), now=full.now,
                            not_applied=full.not_applied)
                raise ChunkFailed(number, len(starts), told(Outcome(done, True, tuple(chunks), tuple(keys), total,
                                                                    owed=tuple(owed_ids)), options, conn), exc) from exc
            pausepoints.pause("AFTER_COMMIT")
            committed.append(plan)
            owed_ids.extend(ids)
            chunk = Chunk(number, len(sub.users), plan.summary(), written)
            chunks.append(chunk)
            keys.extend(plan.created_keys)
            refs.extend(plan.refs)
            total += written
            if on_chunk:
                on_chunk(chunk, len(starts))
        merged = Plan(full.items, refs=_merged_refs(refs), now=full.now, not_applied=full.not_applied)
        return told(Outcome(merged, True, tuple(chunks), tuple(keys), total, owed=tuple(owed_ids)), options, conn)


def _merged_refs(refs: Iterable[EntityRef]) -> tuple[EntityRef, ...]:
    """The chunks' cache references, each object once: a team one chunk renames and a later one
    touches again is one team, under every alias it had."""
    merged: dict[tuple[str, str, str | None], EntityRef] = {}
    for ref in refs:
        seen = merged.get((ref.kind, ref.id, ref.team_id))
        merged[ref.kind, ref.id, ref.team_id] = ref if seen is None else \
            seen._replace(aliases=tuple(dict.fromkeys((*seen.aliases, *ref.aliases))))
    return tuple(merged.values())


def _merged_items(plans: Sequence[Plan]) -> tuple[Item, ...]:
    """The items of chunk plans as one list, each object once: every chunk plans all teams and
    organizations; an object more than one chunk changed shows the first chunk's changes."""
    merged: dict[tuple[str, str], Item] = {}
    for plan in plans:
        for item in plan.items:
            seen = merged.get((item.kind, item.id))
            if seen is None or (seen.action == UNCHANGED and item.action != UNCHANGED):
                merged[item.kind, item.id] = item
    rank = {kind: n for n, kind in enumerate(KINDS)}
    return tuple(sorted(merged.values(), key=lambda i: rank[i.kind]))


Build = Callable[["psycopg.Connection", datetime], tuple[Plan, int]]


def transact(target: Target, what: str, build: Build, *, options: Options, dry_run: bool,
             lock_timeout: float) -> Outcome:
    """`build` (plan and write, returning the plan and the rows written) in one transaction under the
    provisioning lock, re-run whole when its plan went stale; then the proxies are told."""
    now = datetime.now(timezone.utc)
    record = bool(options.redis_url) and not dry_run

    def attempt(conn: psycopg.Connection) -> Outcome:
        with conn.transaction(force_rollback=dry_run), \
                database.advisory_lock(conn, database.family_key(FAMILY), timeout=lock_timeout,
                                       what="provisioning", scope="xact"):
            plan, written = build(conn, now)
            pausepoints.pause("PROVISION_WRITTEN")  # everything written, nothing committed
            ids = owe(conn, what, plan.refs, options) if record and written else ()  # owed from the COMMIT on
            return Outcome(plan, not dry_run, (), (), written, owed=ids)

    with database.connect(target, command=what, lock_timeout=database.attempt_lock_timeout(lock_timeout)) as conn, \
            database.LockWait(target, timeout=lock_timeout, what=what, command=what) as wait:
        wait.attach(conn)
        if record:
            finish_earlier(conn, options)
        outcome = database.retry(lambda: attempt(conn), what=what, replan=(StalePlan,), replans=REPLANS,
                                 gave_up=kept_changing(what), wait=wait)
        pausepoints.pause("AFTER_COMMIT")
        return told(outcome, options, conn)
