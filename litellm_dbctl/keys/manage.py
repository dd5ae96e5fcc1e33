"""Virtual keys as LiteLLM stores them: create (raw key shown once), list, block, unblock, delete.

The database holds what /key/generate writes (litellm-database.md §4.1): `token` is the SHA-256 hex
of the raw key, `key_name` is `sk-...` plus its last four characters, JSON columns default to `{}`.
The raw key exists only in the return value of `create`; nothing here logs or stores it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from litellm_dbctl.audit import trail as audit
from litellm_dbctl.common import durations
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.provision import provisioning

if TYPE_CHECKING:
    from litellm_dbctl.db.config import Target

HASH_LENGTH = 64
MIN_PREFIX = 8


@dataclass(frozen=True)
class NewKey:
    """What `key create` asks for; None leaves LiteLLM's default."""

    user_id: str | None = None
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
    key: provisioning.CreatedKey
    row: dict[str, Any]
    dry_run: bool


def _check(new: NewKey) -> None:
    if not (new.user_id or new.team):
        raise InvalidInput("a key needs an owner: give --user and/or --team")
    if new.raw_key is not None and (not new.raw_key.startswith("sk-") or len(new.raw_key) < 16):
        raise InvalidInput("--key-stdin: a custom key must start with 'sk-' and be at least 16 characters")
    if new.budget_duration:
        durations.validate(new.budget_duration)
    if new.duration and durations.duration_seconds(new.duration) <= 0:
        raise InvalidInput(f"--duration: invalid duration {new.duration!r}")


def create(target: Target, new: NewKey, *, options: provisioning.Options = provisioning.Options(),
           dry_run: bool = False, lock_timeout: float = 30.0, now: datetime | None = None) -> Created:
    """Insert one key after LiteLLM's checks (alias unused, team exists, owner exists) and, for a
    chosen raw key, that no key holds its value yet."""
    from litellm_dbctl.db import database

    _check(new)
    moment = now or datetime.now(timezone.utc)

    def attempt() -> Created:
        with database.connect(target, command="key create") as conn, \
                conn.transaction(force_rollback=dry_run), \
                database.advisory_lock(conn, database.family_key(provisioning.FAMILY), timeout=lock_timeout,
                                       what="key create", scope="xact"):
            if new.key_alias and sqlfiles.run(conn, "key/alias_taken", {"alias": new.key_alias}):
                raise InvalidInput(f"key alias {new.key_alias!r} is already in use (LiteLLM requires unique aliases)")
            team_id = resolve_team(conn, new.team) if new.team else None
            if new.user_id and not sqlfiles.run(conn, "key/user_exists", {"user_id": new.user_id}):
                raise InvalidInput(f"no user {new.user_id!r}; create it first (dbctl user provision --user-id ...)")
            fields: dict[str, Any] = {"user_id": new.user_id, "team_id": team_id, "models": list(new.models),
                                      "max_budget": new.max_budget, "tpm_limit": new.tpm_limit,
                                      "rpm_limit": new.rpm_limit, "metadata": new.metadata or {}}
            if new.budget_duration:
                fields["budget_duration"] = new.budget_duration
                fields["budget_reset_at"] = provisioning.utc_naive(
                    durations.next_reset(new.budget_duration, moment, options.policy))
            key = provisioning.make_key(new.raw_key, new.key_alias)
            holder = sqlfiles.run(conn, "key/tokens_taken", {"tokens": [key.token]}) if new.raw_key else None
            if holder:
                raise InvalidInput(f"--key-stdin: {provisioning.value_taken(holder[0])}")
            row = provisioning.key_row(key, fields, new.duration, moment)
            plan = provisioning.Plan(
                (provisioning.Item("key", new.key_alias or key.key_name, key.key_name, provisioning.CREATE),),
                tuple(provisioning.Step(q, rows) for q, rows in (
                    ("key/insert_many", (row,)),
                    ("audit/copy_in", (audit.row("created", "LiteLLM_VerificationToken",
                                                                   key.token, None, row),) if options.audit else ()))
                      if rows), now=moment)
            provisioning.apply_plan(conn, plan, options)
            return Created(key, row, dry_run)

    return provisioning.retrying(attempt, what="key create")


def resolve_team(conn: Any, ref: str) -> str:
    """A team_id from an id or a unique alias; InvalidInput otherwise."""
    rows = sqlfiles.run(conn, "team/read_for_plan", {"ids": [ref], "aliases": [ref]})
    exact = [r for r in rows if r["team_id"] == ref]
    if exact:
        return ref
    if len(rows) == 1:
        return rows[0]["team_id"]
    if not rows:
        raise InvalidInput(f"no team {ref!r} (by team_id or team_alias)")
    raise InvalidInput(f"team alias {ref!r} matches {len(rows)} teams: {', '.join(sorted(r['team_id'] for r in rows))}")


def list_keys(conn: Any, *, user_id: str | None = None, team_id: str | None = None, alias: str | None = None,
              limit: int = 1000) -> list[dict[str, Any]]:
    return sqlfiles.run(conn, "key/list", {"user_id": user_id, "team_id": team_id, "alias": alias, "limit": limit})


def find(conn: Any, ref: str) -> dict[str, Any]:
    """The one key `ref` names: a raw key (hashed here), a token, a token prefix or an alias."""
    token = provisioning.hash_key(ref) if ref.startswith("sk-") else ref.lower()
    is_hex = all(c in "0123456789abcdef" for c in token)
    prefix = token if is_hex and MIN_PREFIX <= len(token) < HASH_LENGTH else None
    rows = sqlfiles.run(conn, "key/find", {"token": token, "alias": ref, "prefix": prefix})
    if not rows:
        raise InvalidInput(f"no key {describe(ref)} (give an alias, a token or its first {MIN_PREFIX}+ characters)")
    exact = [r for r in rows if r["token"] == token] or [r for r in rows if r["key_alias"] == ref]
    if len(exact) == 1:
        return exact[0]
    if len(rows) == 1:
        return rows[0]
    names = ", ".join(f"{r['token'][:12]}… ({r['key_alias'] or r['key_name']})" for r in rows[:5])
    raise InvalidInput(f"{describe(ref)} matches {len(rows)} keys: {names}")


def describe(ref: str) -> str:
    """A key reference fit for a message: a raw key is never echoed."""
    return f"{ref[:3]}…{ref[-4:]}" if ref.startswith("sk-") else repr(ref)


@dataclass(frozen=True)
class KeyChange:
    token: str
    key_alias: str | None
    action: str  # blocked | unblocked | deleted | unchanged
    dry_run: bool


def set_blocked(target: Target, ref: str, blocked: bool, *, options: provisioning.Options = provisioning.Options(),
                dry_run: bool = False) -> KeyChange:
    """/key/block or /key/unblock; a key already in that state is left alone (no write, no audit)."""
    from litellm_dbctl.db import database

    action = "blocked" if blocked else "unblocked"
    now = provisioning.utc_naive(datetime.now(timezone.utc))

    def attempt() -> KeyChange:
        with database.connect(target, command=f"key {action[:-2]}") as conn, conn.transaction(force_rollback=dry_run):
            row = find(conn, ref)
            changed = sqlfiles.run(conn, "key/set_blocked", {"token": row["token"], "blocked": blocked,
                                                             "actor": options.actor, "now": now})
            if changed and options.audit:
                audit.write(conn, [audit.row(action, "LiteLLM_VerificationToken", row["token"],
                                             {"blocked": row["blocked"]}, {"blocked": blocked})],
                            actor=options.actor, now=now)
            return KeyChange(row["token"], row["key_alias"], action if changed else "unchanged", dry_run)

    return database.retry(attempt, what=f"key {action}")


def delete(target: Target, ref: str, *, options: provisioning.Options = provisioning.Options(),
           dry_run: bool = False) -> KeyChange:
    """/key/delete: copy the row to LiteLLM_DeletedVerificationToken, delete it, audit `deleted`."""
    from litellm_dbctl.db import database

    now = provisioning.utc_naive(datetime.now(timezone.utc))

    def attempt() -> KeyChange:
        with database.connect(target, command="key delete") as conn, conn.transaction(force_rollback=dry_run):
            row = find(conn, ref)
            sqlfiles.run(conn, "key/archive", {"token": row["token"], "actor": options.actor, "now": now})
            sqlfiles.run(conn, "key/delete", {"token": row["token"]})
            if options.audit:
                audit.write(conn, [audit.row("deleted", "LiteLLM_VerificationToken", row["token"],
                                             {k: row[k] for k in ("key_alias", "key_name", "user_id", "team_id")},
                                             None)], actor=options.actor, now=now)
            return KeyChange(row["token"], row["key_alias"], "deleted", dry_run)

    return database.retry(attempt, what="key delete")
