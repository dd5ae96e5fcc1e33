"""Virtual keys as LiteLLM stores them: create (raw key shown once), block, unblock, delete.

The database holds what /key/generate writes (litellm-database.md §4.1): `token` is the SHA-256 hex
of the raw key, `key_name` is `sk-...` plus its last four characters, JSON columns default to `{}`.
The raw key exists only in the return value of `create`; nothing here logs or stores it. Keys are
found as every command finds them (`provision.lookup`); listing them is `provision.accounts.keys`.
After a commit, the proxies' cached copy of a changed key is dropped (`Options.redis_url`); what that
owes is recorded in the change's own transaction (as provisioning records it, cache/owed.py), so a run
killed after its COMMIT leaves it to the next run with a Redis URL, which finishes it first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from litellm_dbctl.audit import trail
from litellm_dbctl.cache.invalidate import EntityRef
from litellm_dbctl.common import checks, durations, pausepoints
from litellm_dbctl.common.clock import utc_naive
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.db import database, release, sqlfiles
from litellm_dbctl.keys.archive import archive
from litellm_dbctl.provision import keysout, lookup, team_keys, tokens
from litellm_dbctl.provision.apply import (
    REPLANS,
    Invalidated,
    StalePlan,
    apply_plan,
    finish_earlier,
    kept_changing,
    owe,
    tell,
)
from litellm_dbctl.provision.keysout import KeysOut
from litellm_dbctl.provision.plan import CREATE, FAMILY, Item, Options, Plan, Step, key_row
from litellm_dbctl.provision.tokens import CreatedKey

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

T = TypeVar("T")


@contextmanager
def _session(target: Target, command: str, lock_timeout: float) -> Iterator[tuple[psycopg.Connection,
                                                                                database.LockWait]]:
    """A connection whose every wait on a row lock (a proxy's open transaction) is bounded by
    `lock_timeout` in all: stderr names the holder after 2 s, then LockBusy (exit 5) does."""
    # Each attempt waits briefly on a row lock; `wait` bounds them all by `lock_timeout`.
    with database.connect(target, command=command, lock_timeout=database.attempt_lock_timeout(lock_timeout)) as conn, \
            database.LockWait(target, timeout=lock_timeout, what=command, command=command) as wait:
        wait.attach(conn)
        yield conn, wait


def _bounded(target: Target, command: str, lock_timeout: float, attempt: Callable[[psycopg.Connection], T],
             **retry: Any) -> T:
    """Run `attempt` (one transaction on the connection it is given) under `database.retry` (`_session`)."""
    with _session(target, command, lock_timeout) as (conn, wait):
        return database.retry(lambda: attempt(conn), what=command, wait=wait, **retry)


@dataclass(frozen=True)
class NewKey:
    """What `key create` asks for; None leaves LiteLLM's default."""

    user_id: str | None = None  # the owner as any user reference: user_id, SSO id or email
    team: str | None = None  # team_id or team_alias
    key_alias: str | None = None
    models: Sequence[str] = ()
    max_budget: float | None = None
    budget_duration: str | None = None
    duration: str | None = None  # lifetime: expires = now + duration
    tpm_limit: int | None = None
    rpm_limit: int | None = None
    metadata: dict[str, Any] | None = None
    raw_key: str | None = None  # a caller-chosen key (`sk-...`, >= 16 characters)


@dataclass(frozen=True)
class Created:
    key: tokens.CreatedKey
    row: dict[str, Any]
    dry_run: bool


def _check(new: NewKey) -> None:
    """The request's values, each named by the option it comes from (InvalidInput)."""
    if not (new.user_id or new.team):
        raise InvalidInput("a key needs an owner: give --user and/or --team")
    refused = tokens.custom_key_problem(new.raw_key) if new.raw_key is not None else None
    if refused:
        raise InvalidInput(f"--key-stdin: {refused}")
    checks.flag("--max-budget", new.max_budget, checks.number)
    checks.flag("--tpm-limit", new.tpm_limit, checks.whole)
    checks.flag("--rpm-limit", new.rpm_limit, checks.whole)
    checks.flag("--metadata", new.metadata, checks.json_value)
    checks.flag("--budget-duration", new.budget_duration or None, checks.duration)
    checks.flag("--duration", new.duration or None, checks.lifetime)


def create(target: Target, new: NewKey, *, options: Options = Options(), dry_run: bool = False,
           lock_timeout: float = 30.0, now: datetime | None = None, keys_out: KeysOut | None = None) -> Created:
    """Insert one key after LiteLLM's checks (alias unused, team exists, owner exists, a team key
    within its team's models and limits: `team_keys`) and, for a chosen raw key, that no key holds
    its value yet. With `keys_out`, the raw key is written there before the COMMIT."""
    _check(new)
    moment = now or datetime.now(timezone.utc)

    def attempt(conn: psycopg.Connection) -> Created:
        with keysout.until_commit(keys_out, conn) as keep, conn.transaction(force_rollback=dry_run), \
                database.advisory_lock(conn, database.family_key(FAMILY), timeout=lock_timeout,
                                       what="key create", scope="xact"):
            if new.key_alias and sqlfiles.run(conn, "key/alias_taken", {"alias": new.key_alias}):
                raise InvalidInput(f"key alias {new.key_alias!r} is already in use (LiteLLM requires unique aliases)")
            team = lookup.find_group(conn, "team", new.team) if new.team else None
            team_id, user_id = (team["team_id"] if team else None), lookup.user_id(conn, new.user_id)
            fields: dict[str, Any] = {"user_id": user_id, "team_id": team_id, "models": list(new.models),
                                      "max_budget": new.max_budget, "tpm_limit": new.tpm_limit,
                                      "rpm_limit": new.rpm_limit, "metadata": new.metadata or {}}
            refused = team_keys.problems(fields, team) if team else []
            if team and not refused and team_keys.guaranteed(fields):
                others = sqlfiles.run(conn, "key/team_limits", {"team_ids": [team_id]})
                refused = team_keys.allocation_problems(fields, others, team)
            if refused:
                field, why = refused[0]
                raise InvalidInput(f"--{field.replace('_', '-')}: {why}")
            if new.budget_duration:
                fields["budget_duration"] = new.budget_duration
                policy = options.with_release(release.release_of(conn, target).line).policy  # the database's rules
                fields["budget_reset_at"] = utc_naive(durations.next_reset(new.budget_duration, moment, policy))
            key = tokens.make_key(new.raw_key, new.key_alias)
            holder = sqlfiles.run(conn, "key/tokens_taken", {"tokens": [key.token]}) if new.raw_key else None
            if holder:
                raise InvalidInput(f"--key-stdin: {tokens.value_taken(holder[0])}")
            row = key_row(key, fields, new.duration, moment)
            audits = (trail.row("created", "LiteLLM_VerificationToken", key.token, None, row),) if options.audit else ()
            plan = Plan((Item("key", new.key_alias or key.key_name, key.key_name, CREATE),),
                        tuple(Step(q, rows) for q, rows in (("key/insert_many", (row,)), ("audit/copy_in", audits))
                              if rows), now=moment)
            apply_plan(conn, plan, options)
            if not dry_run:
                keep([key])
            return Created(key, row, dry_run)

    created = _bounded(target, "key create", lock_timeout, attempt, replan=(StalePlan,), replans=REPLANS,
                       gave_up=kept_changing("key create"))
    pausepoints.pause("AFTER_COMMIT")
    return created


@dataclass(frozen=True)
class KeyChange:
    token: str
    key_alias: str | None
    action: str  # blocked | unblocked | deleted | updated | rotated | unchanged
    dry_run: bool
    invalidated: Invalidated | None = None  # the proxies' cached copy, after the commit (None: not told)


def _changed(target: Target, command: str, attempt: Callable[[psycopg.Connection], KeyChange], *,
             options: Options, dry_run: bool, lock_timeout: float, keys_out: KeysOut | None = None,
             made: Callable[[], Sequence[CreatedKey]] = tuple) -> KeyChange:
    """Run `attempt` (one key's change) in one transaction and tell the proxies once it is committed.
    With a Redis URL, the invalidations earlier runs owe go first, and the one this change owes is
    recorded in its transaction, deleted once Redis has it (`provision.apply.owe`, `tell`). With
    `keys_out`, the raw keys `made` returns after `attempt` are written there before the COMMIT."""
    record = bool(options.redis_url) and not dry_run

    def once(conn: psycopg.Connection) -> tuple[KeyChange, tuple[int, ...]]:
        with keysout.until_commit(keys_out, conn) as keep, conn.transaction(force_rollback=dry_run):
            change = attempt(conn)
            ids = owe(conn, command, [EntityRef("key", change.token)], options) \
                if record and change.action != "unchanged" else ()
            if not dry_run:
                keep(made())
        return change, ids

    with _session(target, command, lock_timeout) as (conn, wait):
        if record:
            finish_earlier(conn, options)
        change, ids = database.retry(lambda: once(conn), what=command, wait=wait)
        pausepoints.pause("AFTER_COMMIT")
        if dry_run or change.action == "unchanged":
            return change
        invalidated = tell([EntityRef("key", change.token)], ids, options, conn)
    return change if invalidated is None else replace(change, invalidated=invalidated)


def set_blocked(target: Target, ref: str, blocked: bool, *, options: Options = Options(),
                dry_run: bool = False, lock_timeout: float = 30.0) -> KeyChange:
    """/key/block or /key/unblock; a key already in that state is left alone (no write, no audit)."""
    action = "blocked" if blocked else "unblocked"
    now = utc_naive(datetime.now(timezone.utc))
    assert now is not None

    def attempt(conn: psycopg.Connection) -> KeyChange:
        row = lookup.find_key(conn, ref)
        changed = sqlfiles.run(conn, "key/set_blocked", {"token": row["token"], "blocked": blocked,
                                                         "actor": options.actor, "now": now})
        if changed and options.audit:
            trail.write(conn, [trail.row(action, "LiteLLM_VerificationToken", row["token"],
                                         {"blocked": row["blocked"]}, {"blocked": blocked})],
                        actor=options.actor, now=now)
        return KeyChange(row["token"], row["key_alias"], action if changed else "unchanged", dry_run)

    return _changed(target, f"key {action[:-2]}", attempt, options=options, dry_run=dry_run,
                    lock_timeout=lock_timeout)


def delete(target: Target, ref: str, *, options: Options = Options(), dry_run: bool = False,
           lock_timeout: float = 30.0) -> KeyChange:
    """/key/delete: copy the row to LiteLLM_DeletedVerificationToken (`archive`), delete it, audit `deleted`."""
    now = utc_naive(datetime.now(timezone.utc))
    assert now is not None

    def attempt(conn: psycopg.Connection) -> KeyChange:
        row = lookup.find_key(conn, ref)
        archive(conn, [row["token"]], actor=options.actor, now=now)
        sqlfiles.run(conn, "key/delete", {"token": row["token"]})
        if options.audit:
            trail.write(conn, [trail.row("deleted", "LiteLLM_VerificationToken", row["token"],
                                         {k: row[k] for k in ("key_alias", "key_name", "user_id", "team_id")},
                                         None)], actor=options.actor, now=now)
        return KeyChange(row["token"], row["key_alias"], "deleted", dry_run)

    return _changed(target, "key delete", attempt, options=options, dry_run=dry_run, lock_timeout=lock_timeout)
