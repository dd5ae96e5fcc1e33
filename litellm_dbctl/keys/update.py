"""`key update`: change the fields given, and only those, as LiteLLM's /key/update writes them.

What /key/update (prepare_key_update_data, 1.109.1) writes, field by field:
- `duration` becomes `expires` = now + duration (exact), or NULL for "never" (LiteLLM's `-1`/None);
- `budget_duration` also sets `budget_reset_at` to the duration's next window boundary from now
  (get_budget_reset_time; dbctl's `durations.next_reset` under the database's release rules);
- `metadata` replaces the stored object whole, except `service_account_id`, which once set is kept
  and may not change (LiteLLM_Reserved_Metadata_Fields);
- a new `key_alias` must be unused (exact match, as /key/generate checks);
- a move to another team (validate_key_team_change) needs the key's owner to be a member of it and the
  key's models and limits within the team's, as `key create` holds a team key (`team_keys`); an explicit
  `team_id: null` takes the key out of its team, refused for a service account key (which needs its
  team) and, dbctl's rule as in `key create`, for a key with no user to own it then;
- `updated_at` and `settings_updated_at` are stamped (with_settings_updated_at).
A value equal to the stored one is no change: a repeat writes nothing and audits nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from litellm_dbctl.audit import trail
from litellm_dbctl.common import checks, durations
from litellm_dbctl.common.clock import utc_naive
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.db import database, release, sqlfiles
from litellm_dbctl.keys.manage import KeyChange, _changed
from litellm_dbctl.provision import lookup, team_keys
from litellm_dbctl.provision.plan import FAMILY, Options

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

NEVER = "never"  # --duration never: the key no longer expires
RESERVED_METADATA = ("service_account_id",)  # LiteLLM_Reserved_Metadata_Fields: immutable once set
FIELDS = ("key_alias", "models", "max_budget", "budget_duration", "budget_reset_at", "tpm_limit", "rpm_limit",
          "metadata", "expires", "team_id", "blocked")
FLAG = {"key_alias": "--alias", "team_id": "--team", "expires": "--duration"}  # a field's option, where not --field


@dataclass(frozen=True)
class KeyUpdate:
    """What `key update` asks for; None leaves a field as it is."""

    key_alias: str | None = None
    models: Sequence[str] | None = None
    max_budget: float | None = None
    budget_duration: str | None = None
    tpm_limit: int | None = None
    rpm_limit: int | None = None
    metadata: dict[str, Any] | None = None
    duration: str | None = None  # the key's lifetime from now, or NEVER
    team: str | None = None  # team_id or team_alias
    leave_team: bool | None = None  # True: out of its team (team_id NULL)
    blocked: bool | None = None

    def given(self) -> bool:
        return any(getattr(self, name) is not None for name in self.__dataclass_fields__)


@dataclass(frozen=True)
class Updated:
    change: KeyChange  # action `updated` or `unchanged`
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (before, after), changed only


def check(update: KeyUpdate) -> None:
    """The request's values at the edge, each named by its option (InvalidInput, exit 2)."""
    if not update.given():
        raise InvalidInput("nothing to update: give at least one of --alias, --models, --max-budget, "
                           "--budget-duration, --tpm-limit, --rpm-limit, --metadata, --duration, --team, "
                           "--no-team, --blocked/--unblocked")
    if update.team is not None and update.leave_team:
        raise InvalidInput("--team and --no-team: give one")
    checks.flag("--alias", update.key_alias, checks.name)
    for model in update.models or ():
        checks.flag("--models", model, checks.name)
    checks.flag("--max-budget", update.max_budget, checks.number)
    checks.flag("--tpm-limit", update.tpm_limit, checks.whole)
    checks.flag("--rpm-limit", update.rpm_limit, checks.whole)
    checks.flag("--metadata", update.metadata, checks.json_value)
    checks.flag("--budget-duration", update.budget_duration, checks.duration)
    if update.duration is not None and update.duration.strip().lower() != NEVER:
        checks.flag("--duration", update.duration, checks.lifetime)
    checks.flag("--team", update.team, checks.name)


def update(target: Target, ref: str, update: KeyUpdate, *, options: Options = Options(), dry_run: bool = False,
           lock_timeout: float = 30.0, now: datetime | None = None) -> Updated:
    """Change the given fields of the key `ref` names, in one transaction under the provisioning lock
    (a team's guaranteed throughput is checked against its other keys, as `key create` does)."""
    check(update)
    moment = now or datetime.now(timezone.utc)
    stamp = utc_naive(moment)
    found: dict[str, dict[str, tuple[Any, Any]]] = {}

    def attempt(conn: psycopg.Connection) -> KeyChange:
        with database.advisory_lock(conn, database.family_key(FAMILY), timeout=lock_timeout, what="key update",
                                    scope="xact"):
            token = lookup.find_key(conn, ref)["token"]
            row = sqlfiles.run(conn, "key/read_for_update", {"token": token}, lock=True)[0]
            new = _apply(conn, target, row, update, moment, options)
            diff = {f: (row[f], new[f]) for f in FIELDS if new[f] != row[f]}
            found["fields"] = diff
            if not diff:
                return KeyChange(token, row["key_alias"], "unchanged", dry_run)
            sqlfiles.run(conn, "key/update_one", {**{f: new[f] for f in FIELDS}, "metadata": json.dumps(new["metadata"]),
                                                  "token": token, "actor": options.actor, "now": stamp})
            if options.audit:
                trail.write(conn, [trail.row("updated", "LiteLLM_VerificationToken", token,
                                             {f: b for f, (b, _) in diff.items()},
                                             {f: a for f, (_, a) in diff.items()})],
                            actor=options.actor, now=stamp)
            return KeyChange(token, new["key_alias"], "updated", dry_run)

    change = _changed(target, "key update", attempt, options=options, dry_run=dry_run, lock_timeout=lock_timeout)
    return Updated(change, found.get("fields", {}))


def _apply(conn: psycopg.Connection, target: Target, row: Mapping[str, Any], update: KeyUpdate, moment: datetime,
           options: Options) -> dict[str, Any]:
    """The key's fields after the update (those not given as they are), checked as LiteLLM checks them."""
    new = {f: row[f] for f in FIELDS}
    if update.key_alias is not None and update.key_alias != row["key_alias"]:
        if sqlfiles.run(conn, "key/alias_taken", {"alias": update.key_alias}):
            raise InvalidInput(f"--alias: {update.key_alias!r} is already in use (LiteLLM requires unique aliases)")
        new["key_alias"] = update.key_alias
    for name in ("max_budget", "tpm_limit", "rpm_limit", "blocked"):
        if getattr(update, name) is not None:
            new[name] = getattr(update, name)
    if update.models is not None:
        new["models"] = list(update.models)
    if update.metadata is not None:
        new["metadata"] = _metadata(row["metadata"] or {}, update.metadata)
    if update.budget_duration is not None and update.budget_duration != row["budget_duration"]:
        policy = options.with_release(release.release_of(conn, target).line).policy
        new["budget_duration"] = update.budget_duration
        new["budget_reset_at"] = utc_naive(durations.next_reset(update.budget_duration, moment, policy))
    if update.duration is not None:
        new["expires"] = None if update.duration.strip().lower() == NEVER else utc_naive(
            moment + timedelta(seconds=durations.duration_seconds(update.duration, moment)))
    team = None
    if update.team is not None:
        team = lookup.find_group(conn, "team", update.team)
        new["team_id"] = team["team_id"]
    if update.leave_team and row["team_id"] is not None:
        if (new["metadata"] or {}).get("service_account_id") is not None:
            raise InvalidInput("--no-team: a service account key keeps its team (LiteLLM: team_id is required for "
                               "service account keys)")
        if not row["user_id"]:
            raise InvalidInput("--no-team: the key has no user_id: out of its team it would have no owner")
        new["team_id"] = None
    moved = new["team_id"] != row["team_id"]
    if moved and team is not None and row["user_id"] and not _member(team, row["user_id"]):
        raise InvalidInput(f"--team: user {row['user_id']!r} (the key's owner) is not a member of team "
                           f"{team.get('team_alias') or team['team_id']!r}; LiteLLM moves a key only into a team "
                           f"its owner belongs to")
    guarded = [f for f in team_keys.GUARDED if getattr(update, f) is not None]
    if new["team_id"] and (moved or guarded or update.metadata is not None):
        team = team or lookup.find_group(conn, "team", new["team_id"])
        _within_team(conn, new, row["token"], team, team_keys.GUARDED if moved else guarded)
    return new


def _metadata(stored: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """/key/update's metadata: the given object whole, its reserved fields kept as stored."""
    merged = dict(given)
    for name in RESERVED_METADATA:
        if stored.get(name) is None:
            continue
        if name in given and given[name] != stored[name]:
            raise InvalidInput(f"--metadata: {name} is immutable once set (LiteLLM refuses to change it)")
        merged[name] = stored[name]
    return merged


def _member(team: Mapping[str, Any], user_id: str) -> bool:
    return any(isinstance(m, Mapping) and m.get("user_id") == user_id for m in team.get("members_with_roles") or [])


def _within_team(conn: psycopg.Connection, key: Mapping[str, Any], token: str, team: Mapping[str, Any],
                 fields: Sequence[str]) -> None:
    """A team key within its team's models and limits, and its guaranteed throughput beside the team's
    other keys (not itself), as `key create` holds one; exit 2 naming the flag."""
    refused = team_keys.problems(key, team, fields) if fields else []
    if not refused and team_keys.guaranteed(key):
        others = [k for k in sqlfiles.run(conn, "key/team_limits", {"team_ids": [team["team_id"]]})
                  if k["token"] != token]
        refused = team_keys.allocation_problems(key, others, team)
    if refused:
        name, why = refused[0]
        raise InvalidInput(f"{FLAG.get(name, '--' + name.replace('_', '-'))}: {why}")
