"""The plan: what provisioning will change, and the exact rows each bulk statement will write.

Per object a create / update (with the changed fields, old -> new) / unchanged item; the write
steps in the order apply runs them; the rows to lock with what the plan saw of the fields it
compares; the proxies' cached objects the change makes stale. The same plan drives `--dry-run`, JSON output and apply, so
what is shown is what is written.

Each entity kind's diff returns a `Delta`; `assemble` joins them into the Plan. The small rules the
diffs share (when two values are the same to LiteLLM, when a budget window restarts) live here too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from operator import attrgetter
from typing import Any, NamedTuple

from litellm_dbctl.audit import trail as audit
from litellm_dbctl.cache.invalidate import EntityRef
from litellm_dbctl.common import durations
from litellm_dbctl.common.clock import utc_naive
from litellm_dbctl.provision import proxy_settings
from litellm_dbctl.provision.tokens import CreatedKey

Row = Mapping[str, Any]
FAMILY = "provision"  # the advisory lock every provisioning transaction holds
DEFAULT_ACTOR = "dbctl"
CREATE, UPDATE, UNCHANGED, DELETE = "create", "update", "unchanged", "delete"
KINDS = ("budget", "organization", "team", "user", "team_member", "org_member", "key")
TABLE = {"budget": "LiteLLM_BudgetTable", "organization": "LiteLLM_OrganizationTable", "team": "LiteLLM_TeamTable",
         "user": "LiteLLM_UserTable", "key": "LiteLLM_VerificationToken", "team_member": "LiteLLM_TeamMembership",
         "org_member": "LiteLLM_OrganizationMembership"}  # an item kind's table, as audit rows name it
USER_COLUMNS = ("user_email", "sso_user_id", "user_alias", "user_role", "max_budget", "budget_duration",
                "budget_reset_at", "models", "tpm_limit", "rpm_limit", "max_parallel_requests", "metadata", "teams")
TEAM_COLUMNS = ("team_alias", "organization_id", "members_with_roles", "metadata", "max_budget", "soft_budget",
                "models", "tpm_limit", "rpm_limit", "max_parallel_requests", "budget_duration", "budget_reset_at",
                "blocked", "team_member_permissions")
ORG_COLUMNS = ("organization_alias", "models", "metadata")
KEY_TYPE = "default"  # LiteLLMKeyType.DEFAULT, GenerateKeyRequest.key_type's default
BUDGET_COLUMNS = ("max_budget", "soft_budget", "tpm_limit", "rpm_limit", "budget_duration", "budget_reset_at")
BUDGET_SET = ("max_budget", "soft_budget", "tpm_limit", "rpm_limit", "budget_duration")  # the ones a spec sets
KEY_COLUMNS = ("user_id", "team_id", "models", "max_budget", "budget_duration", "budget_reset_at", "tpm_limit",
               "rpm_limit", "max_parallel_requests", "metadata", "blocked", "allowed_routes", "budget_id")
TIER_COLUMNS = ("max_budget", "soft_budget", "max_parallel_requests", "tpm_limit", "rpm_limit", "model_max_budget",
                "budget_duration", "budget_reset_at")  # a budget tier's (budgets section) columns
# The bulk statements in the order apply runs them: rows before the rows that point at them.
WRITES = ("tier/insert_many", "tier/update_many", "budget_row/copy_in", "org/insert_many", "team/copy_in",
          "user/copy_in", "budget_row/update_many", "org/update_many", "team/update_many", "user/update_many",
          "team/copy_memberships", "team/update_memberships", "org/insert_memberships", "org/update_memberships",
          "provision/delete_memberships#team", "provision/delete_memberships#org", "key/insert_many",
          "key/update_many", "audit/copy_in")
# The variants of provision/delete_memberships, by group kind.
MEMBERSHIPS = {"team": {"table": "LiteLLM_TeamMembership", "group": "team_id"},
               "org": {"table": "LiteLLM_OrganizationMembership", "group": "organization_id"}}
# The row locks taken before writing, in the order apply takes them: what a diff names them by ->
# the lock query, which returns each row's `seen` as its table's read query does (memberships are
# locked by (user_id, group id) pairs).
LOCKS = {"tier": "tier/lock_for_plan", "budget": "budget_row/lock_for_plan", "organization": "org/lock_for_plan",
         "team": "team/lock_for_plan", "user": "user/lock_for_plan", "team_member": "team/lock_memberships_for_plan",
         "org_member": "org/lock_memberships_for_plan", "key": "key/lock_for_plan"}
PAIR_LOCKS = frozenset({"team_member", "org_member"})
SEP = "\x1f"  # joins a composite lock id (user_id, team_id) as the lock queries return it
LISTS = frozenset({"models", "allowed_routes", "teams", "team_member_permissions"})  # NULL and [] alike
# The metadata key marking an object `provision apply` created from a spec: the only objects
# `--prune` may delete (never one made by hand, by the proxy, or by dbctl's flag commands).
MARK = "dbctl_managed"


class Change(NamedTuple):
    """One field of an object: old -> new (a tuple: a 10,000-user plan makes tens of thousands)."""

    field: str
    old: Any
    new: Any


class Item(NamedTuple):
    """One object of the plan: what happens to it and which fields change (a tuple, as Change)."""

    kind: str  # budget | organization | team | user | team_member | org_member | key
    id: str
    label: str
    action: str  # create | update | unchanged | delete
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class Step:
    """One bulk statement: a write query and its rows; `expect` rows must be affected."""

    query: str
    rows: tuple[Row, ...]
    identifiers: Mapping[str, str] | None = None  # the query's variant, if it has several

    @property
    def expect(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class LockSet:
    """Rows to lock (sorted) before writing, with what the plan saw of each (`seen`: the md5 of the
    compared fields, so a proxy's spend increment is no change): a mismatch means stale."""

    query: str
    expected: Mapping[str, str]  # lock id -> seen
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Prune:
    """--prune's deletions (ids), run after the plan's steps in LiteLLM's order: keys, teams, users,
    organizations; `held`: (kind, id) of what the teams, users and organizations hold, as planned
    (all of it among the deletions: apply re-reads it, and anything new there means a stale plan)."""

    keys: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    orgs: tuple[str, ...] = ()
    held: frozenset[tuple[str, str]] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.keys or self.teams or self.users or self.orgs)


@dataclass(frozen=True)
class Summary:
    create: int
    update: int
    unchanged: int
    delete: int = 0

    @property
    def changed(self) -> int:
        return self.create + self.update + self.delete


@dataclass(frozen=True)
class Plan:
    items: tuple[Item, ...]
    steps: tuple[Step, ...] = ()
    locks: tuple[LockSet, ...] = ()
    roster_locks: tuple[str, ...] = ()  # team ids whose members change (LiteLLM's advisory lock)
    refs: tuple[EntityRef, ...] = ()  # cached proxy objects the change makes stale
    created_keys: tuple[CreatedKey, ...] = ()
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    not_applied: tuple[str, ...] = ()  # proxy settings LiteLLM creates with that dbctl does not apply
    prune: Prune | None = None  # --prune's deletions, run after the steps

    def summary(self) -> Summary:
        counts = Counter(map(attrgetter("action"), self.items))
        return Summary(counts[CREATE], counts[UPDATE], counts[UNCHANGED], counts[DELETE])

    @property
    def changed(self) -> bool:
        return any(item.action != UNCHANGED for item in self.items)


@dataclass(frozen=True)
class Options:
    actor: str = DEFAULT_ACTOR
    audit: bool = True
    policy: durations.ResetPolicy = durations.UTC_MIDNIGHT
    proxy_config: proxy_settings.ConfigFile | None = None  # its litellm_settings: defaults for new rows
    redis_url: str | None = field(default=None, repr=False)  # the proxies' Redis: told after the commit
    redis_namespace: str | None = None
    managed: bool = False  # mark what is created (MARK): `provision apply` from a spec file
    exact_members: bool = False  # remove the spec's teams' and organizations' members it does not list
    prune: bool = False  # delete the marked objects the spec does not list

    def with_release(self, line: str) -> Options:
        """These options under the reset rules of LiteLLM release `line` (the database's)."""
        return replace(self, policy=replace(self.policy, release=line))


def options(*, actor: str = DEFAULT_ACTOR, audit: bool = True, timezone: str = "UTC",
            reset_time: str = "00:00", proxy_config: str | None = None, redis_url: str | None = None,
            redis_namespace: str | None = None, release: str = durations.DEFAULT_RELEASE, managed: bool = False,
            exact_members: bool = False, prune: bool = False) -> Options:
    """Options with the reset policy checked and the proxy config read up front, once (InvalidInput
    for an unknown zone, time or release line, or a config file that cannot be read). `release`: the
    LiteLLM release line whose reset rules budget_reset_at follows."""
    policy = durations.ResetPolicy(timezone, reset_time, release)
    policy.zone()
    policy.time_of_day()
    config = proxy_settings.read_config(proxy_config) if proxy_config else None
    return Options(actor, audit, policy, config, redis_url, redis_namespace, managed, exact_members, prune)


@dataclass(frozen=True)
class Delta:
    """What one entity kind's diff adds to the plan; `assemble` joins them in a fixed order."""

    items: Sequence[Item] = ()
    writes: Mapping[str, Sequence[Row]] = field(default_factory=dict)  # write query -> rows
    budget_updates: Mapping[str, Row] = field(default_factory=dict)  # budget_id -> the row's new state
    locks: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # LOCKS name -> lock id -> seen
    rosters: Sequence[str] = ()  # team ids whose members change
    refs: Sequence[EntityRef] = ()
    created_keys: Sequence[CreatedKey] = ()
    problems: Sequence[tuple[int, str]] = ()
    prune: Prune | None = None


def assemble(deltas: Sequence[Delta], now: datetime, not_applied: tuple[str, ...] = ()) -> Plan:
    """The plan of these deltas: items by kind (each kind in the order its diff gave them), each
    write statement's rows in delta order, one update per budget row, the locks sorted."""
    writes: dict[str, list[Row]] = {query: [] for query in WRITES}
    budget_updates: dict[str, Row] = {}
    locks: dict[str, dict[str, str]] = {name: {} for name in LOCKS}
    items: list[Item] = []
    rosters: set[str] = set()
    refs: list[EntityRef] = []
    created: list[CreatedKey] = []
    prune = None
    for delta in deltas:
        prune = delta.prune or prune
        items.extend(delta.items)
        for query, rows in delta.writes.items():
            writes[query].extend(rows)
        budget_updates.update(delta.budget_updates)
        for name, expected in delta.locks.items():
            locks[name].update(expected)
        rosters.update(delta.rosters)
        refs.extend(delta.refs)
        created.extend(delta.created_keys)
    writes["budget_row/update_many"] = list(budget_updates.values())
    rank = {kind: n for n, kind in enumerate(KINDS)}
    return Plan(tuple(sorted(items, key=lambda i: rank[i.kind])),
                tuple(_step(query, rows) for query, rows in writes.items() if rows),
                tuple(lock_set(name, expected) for name, expected in locks.items() if expected),
                tuple(sorted(rosters)), tuple(dict.fromkeys(refs)), tuple(created), now, not_applied, prune)


def _step(query: str, rows: Sequence[Row]) -> Step:
    """The step of WRITES' `query` (`name#variant`: a variant of `name`, MEMBERSHIPS')."""
    name, _, variant = query.partition("#")
    return Step(name, tuple(rows), MEMBERSHIPS[variant] if variant else None)


def lock_set(name: str, expected: Mapping[str, str]) -> LockSet:
    """The lock of `LOCKS[name]` rows, sorted, with what the plan saw of each."""
    query = LOCKS[name]
    if name not in PAIR_LOCKS:
        return LockSet(query, expected, {"ids": sorted(expected)})
    pairs = sorted(tuple(k.split(SEP, 1)) for k in expected)
    return LockSet(query, expected, {"user_ids": [p[0] for p in pairs], "group_ids": [p[1] for p in pairs]})


# -- rules the diffs share ----------------------------------------------------------------------


def same(name: str, old: Any, new: Any) -> bool:
    """Whether LiteLLM sees no difference: emails compare case-insensitively, numbers as numbers,
    NULL and an empty list or mapping alike."""
    if name == "user_email" and isinstance(old, str) and isinstance(new, str):
        return old.lower() == new.lower()
    if isinstance(old, float) or isinstance(new, float):
        return old is not None and new is not None and float(old) == float(new)
    if name in LISTS and not old and not new:
        return True  # NULL and [] mean the same to LiteLLM
    if name in ("metadata", "model_max_budget") and not old and not new:
        return True
    return bool(old == new)


def changes(current: Row, desired: Row) -> list[Change]:
    """The desired fields that differ from the current row's."""
    return [Change(name, current.get(name), value) for name, value in desired.items()
            if not same(name, current.get(name), value)]


def budget_fields(fields: Row, current: Row | None, now: datetime,
                  policy: durations.ResetPolicy) -> dict[str, Any]:
    """The desired budget columns, with budget_reset_at recomputed when the duration changes (or
    was never set), as LiteLLM's update endpoints do."""
    desired = {k: fields[k] for k in BUDGET_SET if k in fields}
    if "budget_duration" in desired:
        duration = desired["budget_duration"]
        if current is None or current.get("budget_duration") != duration or \
                (duration and current.get("budget_reset_at") is None):
            desired["budget_reset_at"] = utc_naive(durations.next_reset(duration, now, policy)) if duration else None
    return desired


def marked(metadata: Any, options: Options) -> dict[str, Any]:
    """A new object's metadata, with MARK when `options` create managed objects."""
    return {**(metadata or {}), MARK: True} if options.managed else dict(metadata or {})


def keep_mark(desired: dict[str, Any], row: Row) -> None:
    """A spec's metadata rewrite keeps the MARK of an object a spec created (so a second apply
    changes nothing), and never adds it to one made otherwise."""
    if "metadata" in desired and (row.get("metadata") or {}).get(MARK) is True:
        desired["metadata"] = {**(desired["metadata"] or {}), MARK: True}


def roster(value: Any) -> list[dict[str, Any]]:
    """members_with_roles as a list (the column default `{}` reads as an empty roster, as in LiteLLM).
    The entries are the row's own, not copies (a 620,000-member roster): a changed entry is replaced."""
    return [m for m in value if isinstance(m, dict)] if isinstance(value, list) else []


def audit_row(action: str, kind: str, object_id: str, before: Any, after: Any) -> dict[str, Any]:
    """The LiteLLM_AuditLog row of a change to an object of `kind` (an Item kind)."""
    return audit.row(action, TABLE[kind], object_id, before, after)


def key_row(created: CreatedKey, fields: Row, duration: str | None, now: datetime) -> dict[str, Any]:
    """The LiteLLM_VerificationToken row /key/generate writes (expires = now + duration, exact), with
    the key_type it stores for a proxy admin's request that names none (`default`, 1.109.1 and 1.110.2;
    NULL only for /user/new's own key, `llm_api` for a team admin's key for another member)."""
    expires = utc_naive(now + timedelta(seconds=durations.duration_seconds(duration, now))) if duration else None
    row: dict[str, Any] = {"token": created.token, "key_name": created.key_name, "key_alias": created.key_alias,
           **dict.fromkeys(KEY_COLUMNS), "models": [], "metadata": {}, "allowed_routes": [], "expires": expires,
           "key_type": KEY_TYPE}
    row.update({k: v for k, v in fields.items() if k in KEY_COLUMNS})
    return row
