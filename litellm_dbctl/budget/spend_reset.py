"""`dbctl budget reset`: one entity's spend reset now, by hand (BerriAI/litellm#8364).

LiteLLM 1.109.1 has `/key/{key}/reset_spend` (and `/team/{team_id}/member/{user_id}/reset_spend`),
nothing for users, teams, organizations or end users. Its key reset writes `spend = reset_to` (0
here), leaves `budget_reset_at` alone (the window runs on to its boundary), restarts each of the
key's own `budget_limits` windows from now (`reset_at = now + the duration`, floating, so the
window's start is now and excludes the spend that blocked it), and sets the key's Redis counters
(`spend:key:H`, `spend:key:H:window:D`) to 0 and broadcasts that.

Here the same for every kind: keys, users and teams (their spend and budget_limits windows; a
team's budget_limits work as a key's), organizations and end users (their spend: their window is
on a budget tier other rows share, which is left alone). A `budget_reset_at` that is due or missing
while the row has a duration moves to the next boundary by the database's release rules (as
`budget sync` would move it at its next run); a running one stays. Each window's
LiteLLM_BudgetWindowSpend row is rolled to start now with spend 0, as LiteLLM's reset job rolls
one. One transaction under the `budget` advisory lock, each row held (FOR NO KEY UPDATE) from its
read to the commit; audit rows (`updated`) unless disabled. With a Redis URL the entities' counters
and cached objects are deleted and invalidations published (cache/invalidate.py, as `budget sync`
does: deleting a counter makes every proxy reseed it from the reset row), recorded before the
commit in dbctl_pending_invalidations (cache/owed.py) so a run killed after its commit leaves them to
the next run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from litellm_dbctl.audit import trail
from litellm_dbctl.cache import invalidate as cache
from litellm_dbctl.cache import owed
from litellm_dbctl.common import clock, durations, identities, pausepoints
from litellm_dbctl.common.durations import InvalidDuration, ResetPolicy
from litellm_dbctl.db import database, release, sqlfiles
from litellm_dbctl.provision import lookup

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

COMMAND = "budget reset"
# kind -> (table, id column, name column): budget/spend_row's variants
KINDS = {"key": ("LiteLLM_VerificationToken", "token", "key_alias"),
         "user": ("LiteLLM_UserTable", "user_id", "user_email"),
         "team": ("LiteLLM_TeamTable", "team_id", "team_alias"),
         "org": ("LiteLLM_OrganizationTable", "organization_id", "organization_alias"),
         "end_user": ("LiteLLM_EndUserTable", "user_id", "alias")}
WINDOWED = ("key", "team")  # kinds whose rows carry budget_reset_at and budget_limits windows
WINDOW_ENTITY = {"key": "key", "team": "team"}  # LiteLLM_BudgetWindowSpend.entity_type


@dataclass(frozen=True)
class ResetOptions:
    actor: str = "dbctl"
    audit: bool = True
    dry_run: bool = False
    lock_timeout: float = 30.0
    policy: ResetPolicy = durations.UTC_MIDNIGHT
    redis_url: str | None = field(default=None, repr=False)
    redis_namespace: str | None = None
    now: datetime | None = None  # default: the clock


@dataclass(frozen=True)
class EntityReset:
    """What the reset of one entity changed (in a dry run: would change); `fields` maps a column to
    (before, after), only those that change."""

    entity: str  # key|user|team|org|end_user
    id: str
    name: str | None
    fields: dict[str, tuple[Any, Any]]

    @property
    def changed(self) -> bool:
        return bool(self.fields)


@dataclass(frozen=True)
class ResetResult:
    dry_run: bool
    now: datetime
    resets: tuple[EntityReset, ...]
    invalidation: cache.Invalidation | None = None
    invalidation_error: str | None = None  # Redis failed after the commit
    stale: tuple[cache.EntityRef, ...] = ()
    earlier: cache.Invalidation | None = None

    @property
    def changed(self) -> tuple[EntityReset, ...]:
        return tuple(r for r in self.resets if r.changed)


def reset(target: Target, refs: Sequence[tuple[str, str]], options: ResetOptions = ResetOptions()) -> ResetResult:
    """Reset the spend of each (kind, reference) now; see the module docstring."""
    now = clock.utc_aware(options.now) if options.now else clock.now()
    record = bool(options.redis_url) and not options.dry_run
    with database.connect(target, command=COMMAND,
                          lock_timeout=database.attempt_lock_timeout(options.lock_timeout)) as conn, \
            database.LockWait(target, timeout=options.lock_timeout, what=COMMAND, command=COMMAND) as wait:
        wait.attach(conn)
        earlier = None
        if record:
            assert options.redis_url is not None
            # counters other runs owe are budget sync's to send, under LiteLLM's reset lease
            earlier = owed.finish_earlier(conn, options.redis_url, counters=False, namespace=options.redis_namespace)
        done, ids = database.retry(lambda: _transaction(conn, target, refs, options, now, record=record),
                                   what=COMMAND, wait=wait)
        pausepoints.pause("AFTER_COMMIT")
        result = ResetResult(options.dry_run, now, done, earlier=earlier)
        spent = [_ref(r) for r in result.changed]
        if not record or not spent:
            return result
        assert options.redis_url is not None
        try:
            told = owed.invalidate(options.redis_url, spent, (), namespace=options.redis_namespace)
        except cache.RedisError as exc:  # committed: reported with the result, owed to the next run
            return replace(result, invalidation_error=exc.message, stale=tuple(spent))
        owed.done(conn, ids)
        return replace(result, invalidation=told)


def _transaction(conn: psycopg.Connection, target: Target, refs: Sequence[tuple[str, str]], options: ResetOptions,
                 now: datetime, *, record: bool) -> tuple[tuple[EntityReset, ...], tuple[int, ...]]:
    """One attempt: resolve, lock, reset, audit, record what Redis is owed (rolled back in a dry run)."""
    with conn.transaction(force_rollback=options.dry_run), \
            database.advisory_lock(conn, database.family_key("budget"), timeout=options.lock_timeout,
                                   what=COMMAND, scope="xact"):
        found = release.require_known(conn, target, COMMAND)  # a due window moves by the release's rules
        policy = replace(options.policy, release=found.line)
        ids = dict.fromkeys((kind, _resolve(conn, kind, ref)) for kind, ref in refs)
        done = tuple(_reset_one(conn, kind, id_, now, policy) for kind, id_ in ids)
        db_now = clock.utc_naive(now)
        assert db_now is not None
        if options.audit:
            trail.write(conn, [trail.row("updated", KINDS[r.entity][0], r.id,
                                         {name: old for name, (old, _) in r.fields.items()},
                                         {name: new for name, (_, new) in r.fields.items()})
                               for r in done if r.changed], actor=options.actor, now=db_now)
        owes: tuple[int, ...] = ()
        spent = [_ref(r) for r in done if r.changed]
        if record and spent:
            owes = owed.record(conn, COMMAND, spent, ())
    return done, owes


def _resolve(conn: psycopg.Connection, kind: str, ref: str) -> str:
    """The id a reference names, as every command resolves it (exit 2 for none or several)."""
    if kind == "key":
        return str(lookup.find_key(conn, ref)["token"])
    if kind == "user":
        return str(lookup.find_user(conn, ref)["user_id"])
    if kind in ("team", "org"):
        return str(lookup.group_id(conn, kind, ref))
    rows = sqlfiles.run(conn, "budget/spend_row", {"id": ref, "alias": ref}, identifiers=_identifiers(kind))
    found = identities.choose(kind, ref, identities.group_matches(rows, ref, "id", "name"))
    if found is None:
        raise identities.Unknown(kind, ref, lookup.names(conn, kind))
    return found.id


def _identifiers(kind: str) -> dict[str, str]:
    table, id_, name = KINDS[kind]
    return {"table": table, "id": id_, "name": name}


def _reset_one(conn: psycopg.Connection, kind: str, id_: str, now: datetime, policy: ResetPolicy) -> EntityReset:
    """Hold the row, then zero its spend, move a due or missing budget_reset_at, restart its windows."""
    identifiers = _identifiers(kind)
    row = next(r for r in sqlfiles.run(conn, "budget/spend_row", {"id": id_, "alias": None},
                                       identifiers=identifiers, lock=True) if r["id"] == id_)
    fields: dict[str, tuple[Any, Any]] = {}
    target = {"table": identifiers["table"], "id": identifiers["id"]}
    if row["spend"]:
        sqlfiles.run(conn, "budget/zero_spend", {"id": id_}, identifiers=target)
        fields["spend"] = (row["spend"], 0.0)
    following = _following(row, now, policy)
    if following is not None:
        sqlfiles.run(conn, "budget/set_reset_at", {"id": id_, "budget_reset_at": clock.utc_naive(following)},
                     identifiers=target)
        fields["budget_reset_at"] = (row["budget_reset_at"], clock.utc_naive(following))
    if kind in WINDOWED:
        fields.update(_restart_windows(conn, kind, row, now))
    return EntityReset(kind, id_, row["name"], fields)


def _following(row: dict[str, Any], now: datetime, policy: ResetPolicy) -> datetime | None:
    """The new budget_reset_at: the next boundary when the row has a duration and its window is due
    or unset; None to leave it (a running window, no duration, or one LiteLLM rejects)."""
    duration, current = row["budget_duration"], row["budget_reset_at"]
    if not duration or (current is not None and clock.utc_aware(current) > now):
        return None
    try:
        return durations.next_reset(duration, now, policy)
    except InvalidDuration:
        return None


def _restart_windows(conn: psycopg.Connection, kind: str, row: dict[str, Any],
                     now: datetime) -> dict[str, tuple[Any, Any]]:
    """Each budget_limits window with a duration starts now (reset_at = now + its duration, ISO text
    as LiteLLM writes it), its spend row rolled to start now with spend 0."""
    windows = row["budget_limits"]
    if not isinstance(windows, list) or not windows:
        return {}
    restarted: list[Any] = []
    moved: list[tuple[str, Any, str]] = []  # (duration, old reset_at, new reset_at)
    for window in windows:
        duration = window.get("budget_duration") if isinstance(window, dict) else None
        try:
            seconds = durations.duration_seconds(str(duration), now) if isinstance(duration, str) and duration else None
        except InvalidDuration:
            seconds = None
        if seconds is None:
            restarted.append(window)
            continue
        new_reset = (now + timedelta(seconds=seconds)).isoformat()
        moved.append((str(duration), window.get("reset_at"), new_reset))
        restarted.append({**window, "reset_at": new_reset})
    if not moved:
        return {}
    table, id_column, _ = KINDS[kind]
    sqlfiles.run(conn, "budget/set_limit_windows", {"ids": [row["id"]], "old": [json.dumps(windows)],
                                                    "new": [json.dumps(restarted)]},
                 identifiers={"table": table, "id": id_column})
    fields: dict[str, tuple[Any, Any]] = {f"budget_limits[{d}].reset_at": (old, new) for d, old, new in moved}
    if sqlfiles.supported(conn, "budget/roll_window_spend"):
        start = clock.utc_naive(now)
        rolled = sqlfiles.run(conn, "budget/roll_window_spend", {
            "entity_types": [WINDOW_ENTITY[kind]] * len(moved), "entity_ids": [row["id"]] * len(moved),
            "durations": [d for d, _, _ in moved], "starts": [start] * len(moved),
            "max_budgets": [None] * len(moved), "rollover": False, "now": start})
        fields.update({f"budget_limits[{r['window_duration']}].spend": (r["old_spend"], r["new_spend"])
                       for r in rolled})
    return fields


def _ref(done: EntityReset) -> cache.EntityRef:
    """What the proxies cache of a reset entity: its counters and cached object (a team also by alias)."""
    return cache.EntityRef.team(done.id, done.name) if done.entity == "team" else cache.EntityRef(done.entity, done.id)
