"""Plan, then apply: make the database hold a spec's organizations, teams, users and keys.

`make_plan` reads the current rows in bulk (one query per table, `= ANY(...)`), resolves every
reference, and returns a `Plan`: per object create / update (with the changed fields, old -> new) /
unchanged, plus the exact rows each bulk statement will write. The same plan drives `--dry-run`,
JSON output and apply, so what is shown is what is written.

Apply locks the rows it will change in sorted key order (as LiteLLM's spend flush does, so the two
never deadlock), checks by xmin that none changed since the plan was read (else re-plans), takes
LiteLLM's per-team roster lock (`pg_advisory_xact_lock(hashtext(team_id))`), then writes only what
changed with one statement per table. An unchanged spec writes nothing at all.

Rows are what LiteLLM's endpoints write (litellm-database.md §4): memberships in all three places
(UserTable.teams, TeamTable.members_with_roles, a LiteLLM_TeamMembership row with an optional member
budget row), organizations with their budget row, keys hashed with SHA-256, audit rows.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from litellm_dbctl.audit import trail as audit
from litellm_dbctl.cache.invalidate import EntityRef
from litellm_dbctl.common import clock, durations, uuids
from litellm_dbctl.common.errors import DbctlError, ExitCode, InvalidInput, InvalidSpec, OperationalError
from litellm_dbctl.db import bulk, sqlfiles
from litellm_dbctl.provision import proxy_settings
from litellm_dbctl.provision.specs import DEFAULT_ROLE, Loc, Membership, Spec, field_loc

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

FAMILY = "provision"
DEFAULT_ACTOR = "dbctl"
CREATE, UPDATE, UNCHANGED, DELETE = "create", "update", "unchanged", "delete"
KINDS = ("organization", "team", "user", "team_member", "org_member", "key")
TABLE = {"organization": "LiteLLM_OrganizationTable", "team": "LiteLLM_TeamTable", "user": "LiteLLM_UserTable",
         "key": "LiteLLM_VerificationToken", "budget": "LiteLLM_BudgetTable"}
USER_COLUMNS = ("user_email", "sso_user_id", "user_alias", "user_role", "max_budget", "budget_duration",
                "budget_reset_at", "models", "tpm_limit", "rpm_limit", "max_parallel_requests", "metadata", "teams")
USER_FIELDSET = frozenset(USER_COLUMNS)
USER_NULLS = dict.fromkeys(USER_COLUMNS)  # a new user's columns before its fields: copied, never changed
TEAM_COLUMNS = ("team_alias", "organization_id", "members_with_roles", "metadata", "max_budget", "soft_budget",
                "models", "tpm_limit", "rpm_limit", "max_parallel_requests", "budget_duration", "budget_reset_at",
                "blocked", "team_member_permissions")
ORG_COLUMNS = ("organization_alias", "models", "metadata")
BUDGET_COLUMNS = ("max_budget", "soft_budget", "tpm_limit", "rpm_limit", "budget_duration", "budget_reset_at")
BUDGET_FIELDSET = frozenset(BUDGET_COLUMNS) - {"budget_reset_at"}  # the budget fields a spec sets
KEY_COLUMNS = ("user_id", "team_id", "models", "max_budget", "budget_duration", "budget_reset_at", "tpm_limit",
               "rpm_limit", "max_parallel_requests", "metadata", "blocked", "allowed_routes")
MEMBER_BUDGET_MAP = {"team_member_budget": "max_budget", "team_member_budget_duration": "budget_duration",
                     "team_member_tpm_limit": "tpm_limit", "team_member_rpm_limit": "rpm_limit"}
MEMBER_BUDGET_FIELD = {column: name for name, column in MEMBER_BUDGET_MAP.items()}
PROXY_SETTINGS = "proxy settings"  # where a default membership comes from: the source of its messages
DEFAULT_TEAMS = "litellm_settings.default_internal_user_params.teams"  # ... and its field path
DEFAULT_ORG = "default_team_params.organization_id"  # the organization a created team joins unless it names one
SEP = "\x1f"  # joins a composite key (user_id, team_id) as the lock queries return it


# -- the plan ----------------------------------------------------------------------------------


class Change(NamedTuple):
    """One field of an object: old -> new (a tuple: a 10,000-user plan makes tens of thousands)."""

    field: str
    old: Any
    new: Any


class Item(NamedTuple):
    """One object of the plan: what happens to it and which fields change (a tuple, as Change)."""

    kind: str  # organization | team | user | team_member | org_member | key
    id: str
    label: str
    action: str  # create | update | unchanged | delete
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class Step:
    """One bulk statement: a write query and its rows; `expect` rows must be affected."""

    query: str
    rows: tuple[Mapping[str, Any], ...]

    @property
    def expect(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class LockSet:
    """Rows to lock (sorted) before writing, with the xmin the plan read: a mismatch means stale."""

    query: str
    expected: Mapping[str, str]  # lock id -> xmin
    params: Mapping[str, Any]


@dataclass(frozen=True)
class CreatedKey:
    key_alias: str | None
    token: str
    key_name: str
    raw: str = field(repr=False)  # shown to the operator once, never stored, logged or re-read


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


def options(*, actor: str = DEFAULT_ACTOR, audit: bool = True, timezone: str = "UTC",
            reset_time: str = "00:00", proxy_config: str | None = None) -> Options:
    """Options with the reset policy checked and the proxy config read up front, once (InvalidInput
    for an unknown zone or time, or a config file that cannot be read)."""
    policy = durations.ResetPolicy(timezone, reset_time)
    policy.zone()
    policy.time_of_day()
    config = proxy_settings.read_config(proxy_config) if proxy_config else None
    return Options(actor=actor, audit=audit, policy=policy, proxy_config=config)


class StalePlan(Exception):
    """A row changed between reading the plan and locking it: the transaction is re-planned."""


# -- helpers -----------------------------------------------------------------------------------


def hash_key(raw: str) -> str:
    """LiteLLM's stored token: lowercase hex SHA-256 of the UTF-8 raw key, `sk-` included."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def key_name(raw: str) -> str:
    """LiteLLM's display name for a key: `sk-...` plus its last four characters."""
    return "sk-..." + raw[-4:] if len(raw) >= 16 else "sk-..."


def new_raw_key() -> str:
    import secrets  # here: most runs create no key, and secrets costs ~3 ms to import

    return "sk-" + secrets.token_urlsafe(16)


utc_naive = clock.utc_naive  # as timestamp(3) holds it; one implementation, in common.clock


def _same(name: str, old: Any, new: Any) -> bool:
    if name == "user_email" and isinstance(old, str) and isinstance(new, str):
        return old.lower() == new.lower()
    if isinstance(old, float) or isinstance(new, float):
        return old is not None and new is not None and float(old) == float(new)
    if name in ("models", "allowed_routes", "teams", "team_member_permissions") and not old and not new:
        return True  # NULL and [] mean the same to LiteLLM
    if name == "metadata" and not old and not new:
        return True
    return bool(old == new)


def _roster(value: Any) -> list[dict[str, Any]]:
    """members_with_roles as a list (the column default `{}` reads as an empty roster, as in LiteLLM)."""
    return [dict(m) for m in value if isinstance(m, dict)] if isinstance(value, list) else []


# -- planning ----------------------------------------------------------------------------------


class _Planner:
    """Reads the rows a spec touches, resolves references, diffs, and assembles the Plan."""

    def __init__(self, conn: psycopg.Connection, spec: Spec, options: Options, now: datetime) -> None:
        self.conn = conn
        self.spec = spec
        self.options = options
        self.now = now
        self.now_db = utc_naive(now)
        self.problems: list[tuple[int, str]] = list(spec.problems)
        self.items: list[Item] = []
        self.audit: list[dict[str, Any]] = []
        self.refs: list[EntityRef] = []
        self.created_keys: list[CreatedKey] = []
        self.budget_inserts: list[dict[str, Any]] = []
        self.budget_updates: dict[str, dict[str, Any]] = {}
        self.budget_xmin: dict[str, str] = {}
        self.org_ids: list[str] = []  # resolved id per spec org
        self.team_ids: list[str] = []
        self.user_ids: list[str] = []

    def problem(self, loc: Any, where: str, message: str) -> None:
        self.problems.append((loc.line, f"{loc}: {where}: {message}"))

    def reset_at(self, duration: str | None) -> datetime | None:
        return utc_naive(durations.next_reset(duration, self.now, self.options.policy)) if duration else None

    # reading ------------------------------------------------------------------------------
    def read(self) -> None:
        spec = self.spec
        org_refs = {r for o in spec.organizations for r in (o.organization_id, o.organization_alias) if r}
        org_refs |= {m.target for m in (*spec.memberships, *spec.references) if m.kind == "org"}
        org_refs |= {t.fields["organization_id"] for t in spec.teams if t.fields.get("organization_id")}
        if spec.teams and self.settings.team_params.get("organization_id"):
            org_refs.add(self.settings.team_params["organization_id"])
        team_refs = {r for t in spec.teams for r in (t.team_id, t.team_alias) if r}
        team_refs |= {m.target for m in (*spec.memberships, *spec.references) if m.kind == "team"}
        team_refs |= {t.team_id for t in self.settings.user_teams} if spec.users else set()
        team_refs |= {k.fields["team_id"] for k in spec.keys if k.fields.get("team_id")}
        user_ids = {u.user_id for u in spec.users if u.user_id} | {k.fields["user_id"] for k in spec.keys
                                                                  if k.fields.get("user_id")}
        self.org_rows = self._query("org/read_for_plan", {"ids": sorted(org_refs), "aliases": sorted(org_refs)}) \
            if org_refs else []
        self.team_rows = self._query("team/read_for_plan", {"ids": sorted(team_refs), "aliases": sorted(team_refs)}) \
            if team_refs else []
        self.user_rows = self._query("user/read_for_plan", {
            "ids": sorted(user_ids), "sso_ids": sorted({u.sso_user_id for u in spec.users if u.sso_user_id}),
            "emails": sorted({u.user_email.lower() for u in spec.users if u.user_email})}) if spec.users or user_ids \
            else []
        self.key_rows = self._query("key/read_for_plan", {"aliases": sorted({k.key_alias for k in spec.keys})}) \
            if spec.keys else []
        tokens = sorted({hash_key(k.raw_key) for k in spec.keys if k.raw_key})
        self.taken_tokens = {r["token"]: r for r in self._query("key/tokens_taken", {"tokens": tokens})} \
            if tokens else {}

    def _query(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return sqlfiles.run(self.conn, name, params)

    def read_memberships(self) -> None:
        existing_users = sorted({self.user_ids[m.user] for m in self.memberships
                                 if self.user_ids[m.user] in self.user_by_id})
        teams = sorted({i for (kind, _), i in self.member_targets.items() if kind == "team" and i in self.team_by_id})
        orgs = sorted({i for (kind, _), i in self.member_targets.items() if kind == "org" and i in self.org_by_id})
        self.tm_rows = {(r["user_id"], r["team_id"]): r for r in self._query(
            "team/memberships_for_plan", {"team_ids": teams, "user_ids": existing_users})} \
            if teams and existing_users else {}
        self.om_rows = {(r["user_id"], r["organization_id"]): r for r in self._query(
            "org/memberships_for_plan", {"org_ids": orgs, "user_ids": existing_users})} \
            if orgs and existing_users else {}
        self.read_budgets()

    def read_budgets(self) -> None:
        """The budget rows behind organizations, teams' default member budgets and member budgets, in
        one read, attached to the rows that point at them."""
        links = [(row, row.get("budget_id"), "") for row in self.org_rows]
        links += [(row, (row.get("metadata") or {}).get("team_member_budget_id"), "member_")
                  for row in self.team_rows]
        links += [(row, row.get("budget_id"), "") for row in self.tm_rows.values()]
        ids = sorted({budget_id for _, budget_id, _ in links if isinstance(budget_id, str)})
        budgets = {r["budget_id"]: r for r in self._query("budget_row/read_for_plan", {"ids": ids})} if ids else {}
        for row, budget_id, prefix in links:
            budget = budgets.get(budget_id) if isinstance(budget_id, str) else None
            for column in BUDGET_COLUMNS:
                row[prefix + column] = budget[column] if budget else None
            row[prefix + "budget_xmin"] = budget["xmin"] if budget else None
            if prefix:
                row["member_budget_id"] = budget_id if budget else None

    # resolving ----------------------------------------------------------------------------
    def resolve(self) -> None:
        spec = self.spec
        self.org_by_id = {r["organization_id"]: r for r in self.org_rows}
        orgs_by_alias: dict[str, list[dict[str, Any]]] = {}
        for row in self.org_rows:
            orgs_by_alias.setdefault(row["organization_alias"], []).append(row)
        self.orgs_by_alias = orgs_by_alias
        for org in spec.organizations:
            self.org_ids.append(self._match(org.organization_id, org.organization_alias, orgs_by_alias,
                                            "organization_id", field_loc(org, "organization_alias"),
                                            f"{org.where}.organization_alias"))
        self._alias_clashes(spec.organizations, self.org_ids, orgs_by_alias, "organization")
        self.spec_org_ids = {org.organization_id: i for i, org in enumerate(spec.organizations) if org.organization_id}
        self.spec_org_aliases = {org.organization_alias: i for i, org in enumerate(spec.organizations)
                                 if org.organization_alias}

        self.team_by_id = {r["team_id"]: r for r in self.team_rows}
        teams_by_alias: dict[str, list[dict[str, Any]]] = {}
        for row in self.team_rows:
            if row["team_alias"]:
                teams_by_alias.setdefault(row["team_alias"], []).append(row)
        self.teams_by_alias = teams_by_alias
        for team in spec.teams:
            self.team_ids.append(self._match(team.team_id, team.team_alias, teams_by_alias, "team_id",
                                             field_loc(team, "team_alias"), f"{team.where}.team_alias"))
        self._alias_clashes(spec.teams, self.team_ids, teams_by_alias, "team")
        self.spec_team_ids = {t.team_id: i for i, t in enumerate(spec.teams) if t.team_id}
        self.spec_team_aliases = {t.team_alias: i for i, t in enumerate(spec.teams) if t.team_alias}

        self.user_by_id = {r["user_id"]: r for r in self.user_rows}
        by_sso = {r["sso_user_id"]: r for r in self.user_rows if r["sso_user_id"]}
        by_email: dict[str, list[dict[str, Any]]] = {}
        for row in self.user_rows:
            if row["user_email"]:
                by_email.setdefault(row["user_email"].lower(), []).append(row)
        claimed: dict[str, Any] = {}
        email_moves: list[tuple[Any, dict[str, Any], list[dict[str, Any]]]] = []
        for user in spec.users:
            row = self._match_user(user, by_sso, by_email)
            user_id = row["user_id"] if row else (user.user_id or uuids.v4())
            if row is not None:
                if row["user_id"] in claimed:
                    self.problem(user.loc, user.where, f"names the same existing user {row['user_id']!r} as the "
                                                       f"entry at {claimed[row['user_id']]}")
                claimed[row["user_id"]] = user.loc
                other = by_sso.get(user.sso_user_id) if user.sso_user_id else None
                if other is not None and other["user_id"] != row["user_id"]:
                    self.problem(field_loc(user, "sso_user_id"), f"{user.where}.sso_user_id",
                                 f"{user.sso_user_id!r} already belongs to user {other['user_id']!r}")
                email = user.user_email
                if email and email != row["user_email"] and not user.implied:  # found by id or sso: a new email?
                    holders = by_email.get(email.lower())
                    if holders and (len(holders) > 1 or holders[0] is not row):
                        email_moves.append((user, row, holders))
            self.user_ids.append(user_id)
        self.spec_user_ids = set(self.user_ids)
        if email_moves:
            self._email_clashes(email_moves)

        for team in spec.teams:  # organization references
            ref = team.fields.get("organization_id")
            if ref and self.org_ref(ref) is None:
                self.problem(field_loc(team, "organization_id"), f"{team.where}.organization_id",
                             self._missing("organization", ref))
        for reference in spec.references:  # of entries with problems of their own
            kind = "team" if reference.kind == "team" else "organization"
            if (self.team_ref if kind == "team" else self.org_ref)(reference.target) is None:
                self.problem(reference.loc, reference.where, self._missing(kind, reference.target))
        self._default_org()
        memberships = list(spec.memberships) + self._default_memberships()
        self.member_targets = {(kind, target): self.team_ref(target) if kind == "team" else self.org_ref(target)
                               for kind, target in {(m.kind, m.target) for m in memberships}}
        self.memberships = self._distinct(memberships)
        key_aliases = {r["key_alias"] for r in self.key_rows}
        for key in spec.keys:
            holder = self.taken_tokens.get(hash_key(key.raw_key)) if key.raw_key else None
            if holder is not None and key.key_alias not in key_aliases:  # an existing alias is never re-keyed
                self.problem(field_loc(key, "key"), f"{key.where}.key", value_taken(holder))
            team_ref = key.fields.get("team_id")
            if team_ref and self.team_ref(team_ref) is None:
                self.problem(field_loc(key, "team_id"), f"{key.where}.team_id", self._missing("team", team_ref))
            user_ref = key.fields.get("user_id")
            if user_ref and user_ref not in self.spec_user_ids and user_ref not in self.user_by_id:
                self.problem(field_loc(key, "user_id"), f"{key.where}.user_id",
                             f"user {user_ref!r} exists neither in the file nor in the database")
        for org, org_id in zip(spec.organizations, self.org_ids):
            if org_id not in self.org_by_id and not org.organization_alias:
                self.problem(org.loc, org.where, "organization_alias is required to create it")

    def _distinct(self, memberships: list[Membership]) -> list[Membership]:
        """One membership per (kind, resolved target, user): a team or organization named twice for a
        user (by id and by alias, in a roster and in the user's own list) is one row. Roles and member
        budgets given in both places must agree; one given in one place only is kept."""
        targets, users = self.member_targets, self.spec.users
        first: dict[tuple[str, str, int], int] = {}
        out: list[Membership] = []
        seen_at, append = first.setdefault, out.append  # the loop runs once per membership: 10,000s of times
        for m in memberships:
            kind = m.kind
            target = targets[kind, m.target]
            if target is None:
                what = "team" if kind == "team" else "organization"
                self.problem(m.loc, m.where, self._missing(what, m.target))
                continue
            count = len(out)
            at = seen_at((kind, target, m.user), count)
            if at == count:
                append(m)
                continue
            seen = out[at]
            roles_clash = None not in (seen.role, m.role) and seen.role != m.role
            budgets_clash = None not in (seen.max_budget, m.max_budget) and seen.max_budget != m.max_budget
            if roles_clash or budgets_clash:  # told at the later of the two, naming the earlier
                earlier, later = (seen, m) if seen.loc.line <= m.loc.line else (m, seen)
                what = "team" if m.kind == "team" else "organization"
                named = repr(later.target) + (f" ({target})" if target != later.target else "")
                self.problem(later.loc, later.where,
                             f"{users[m.user].label} is already a member of {what} {named} with "
                             f"{'role ' + repr(earlier.role) if roles_clash else 'another budget'} (at {earlier.loc})")
                continue
            out[at] = seen._replace(role=seen.role or m.role,
                                    max_budget=seen.max_budget if seen.max_budget is not None else m.max_budget)
        return out

    def _alias_clashes(self, items: Sequence[Any], ids: list[str], by_alias: Mapping[str, list[dict[str, Any]]],
                       what: str) -> None:
        """A declared alias another existing team (organization) keeps: a lookup by that alias, in
        LiteLLM or dbctl, would then match two. An entry without an id is found by its alias instead."""
        id_name, alias_name = ("team_id", "team_alias") if what == "team" else ("organization_id",
                                                                                 "organization_alias")
        declared = {own: getattr(item, alias_name) for item, own in zip(items, ids) if getattr(item, alias_name)}
        for item, own in zip(items, ids):
            alias = getattr(item, alias_name)
            if not alias or not getattr(item, id_name):
                continue
            others = sorted(r[id_name] for r in by_alias.get(alias, [])
                            if r[id_name] != own and declared.get(r[id_name], alias) == alias)
            if others:
                self.problem(field_loc(item, alias_name), f"{item.where}.{alias_name}",
                             f"alias {alias!r} is already used by {what} {', '.join(map(repr, others))}")

    def _email_clashes(self, moves: list[tuple[Any, dict[str, Any], list[dict[str, Any]]]]) -> None:
        """An existing user given an email another user has: LiteLLM's and dbctl's lookups by email would
        then match two. (Users sharing an email already are left as they are; a user the spec moves to
        another email no longer counts.)"""
        declared = {user_id: user.user_email.lower() for user, user_id in zip(self.spec.users, self.user_ids)
                    if user.user_email and not user.implied}
        for user, row, holders in moves:
            email = user.user_email.lower()
            if (row["user_email"] or "").lower() == email:
                continue
            others = sorted(r["user_id"] for r in holders
                            if r["user_id"] != row["user_id"] and declared.get(r["user_id"], email) == email)
            if others:
                self.problem(field_loc(user, "user_email"), f"{user.where}.user_email",
                             f"{user.user_email!r} is already the email of user {', '.join(map(repr, others))}")

    def _default_memberships(self) -> list[Membership]:
        """The proxy's default teams (default_internal_user_params.teams) for each user the spec
        creates without naming a team, as /user/new adds them."""
        defaults = self.settings.user_teams
        if not defaults:
            return []
        named = {m.user for m in self.spec.memberships if m.kind == "team"}
        loc = Loc(PROXY_SETTINGS, 0)
        teams = [(team, f"{DEFAULT_TEAMS}[{n}]") for n, team in enumerate(defaults)]
        return [Membership(index, "team", team.team_id, team.role, team.max_budget_in_team, loc, where)
                for index, (user, user_id) in enumerate(zip(self.spec.users, self.user_ids))
                if not user.implied and index not in named and user_id not in self.user_by_id
                for team, where in teams]

    def _default_org(self) -> None:
        """default_team_params.organization_id, when a team the spec creates names no organization, must
        be the id of an organization in the file or the database: /team/new rejects any other, and the
        proxy reads an id there, never an alias."""
        org_id = self.settings.team_params.get("organization_id")
        if not org_id or org_id in self.spec_org_ids or org_id in self.org_by_id:
            return
        if all(team_id in self.team_by_id or "organization_id" in team.fields
               for team, team_id in zip(self.spec.teams, self.team_ids)):
            return
        why = f"organization_id {org_id!r} exists neither in the file nor in the database"
        alias_of = self.org_ref(org_id)
        if alias_of:
            why += f" ({org_id!r} is the alias of {alias_of!r}: give its organization_id)"
        where = self.settings.at.get(DEFAULT_ORG, PROXY_SETTINGS)
        self.problems.append((0, f"{where}: litellm_settings.{DEFAULT_ORG}: {why}"))

    def _match(self, given_id: str | None, alias: str | None, by_alias: Mapping[str, list[dict[str, Any]]],
               id_name: str, loc: Any, where: str) -> str:
        if given_id:
            return given_id
        rows = by_alias.get(alias or "", [])
        if len(rows) > 1:
            ids = ", ".join(sorted(r[id_name] for r in rows))
            self.problem(loc, where, f"alias {alias!r} matches {len(rows)} rows in the database ({ids}); "
                                     f"give {id_name}")
        return rows[0][id_name] if rows else uuids.v4()

    def _match_user(self, user: Any, by_sso: Mapping[str, Any],
                    by_email: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
        """LiteLLM's lookup order: user_id, else sso_user_id, else email (case-insensitive)."""
        if user.user_id and user.user_id in self.user_by_id:
            return self.user_by_id[user.user_id]
        row = by_sso.get(user.sso_user_id) if user.sso_user_id else None
        if row is None and user.user_email:
            rows = by_email.get(user.user_email.lower(), [])
            if len(rows) > 1:
                ids = ", ".join(sorted(r["user_id"] for r in rows))
                self.problem(field_loc(user, "user_email"), f"{user.where}.user_email",
                             f"email {user.user_email!r} matches {len(rows)} users in the database: {ids}")
                return None
            row = rows[0] if rows else None
            if row is not None and user.sso_user_id and row["sso_user_id"] not in (None, user.sso_user_id):
                self.problem(field_loc(user, "sso_user_id"), f"{user.where}.sso_user_id",
                             f"user {row['user_id']!r}, found by its email, is linked to sso_user_id "
                             f"{row['sso_user_id']!r}; give its user_id to link it to another identity")
                return None
        if row is not None and user.user_id and row["user_id"] != user.user_id:
            how = "sso_user_id" if by_sso.get(user.sso_user_id or "") is row else "user_email"
            self.problem(field_loc(user, how), f"{user.where}.{how}",
                         f"{getattr(user, how)!r} belongs to existing user {row['user_id']!r}; give that user_id or "
                         "leave user_id out")
            return None
        return row

    def _missing(self, what: str, ref: str) -> str:
        """Why a team/organization reference does not resolve: absent, or an ambiguous alias."""
        rows = (self.teams_by_alias if what == "team" else self.orgs_by_alias).get(ref, [])
        if len(rows) > 1:
            id_name = "team_id" if what == "team" else "organization_id"
            return (f"alias {ref!r} matches {len(rows)} {what}s in the database "
                    f"({', '.join(sorted(r[id_name] for r in rows))}); use the id")
        return f"{what} {ref!r} exists neither in the file nor in the database"

    def org_ref(self, ref: str) -> str | None:
        """The organization_id a reference (id or alias) names, in the file or the database."""
        if ref in self.spec_org_ids:
            return self.org_ids[self.spec_org_ids[ref]]
        if ref in self.org_by_id:
            return ref
        if ref in self.spec_org_aliases:
            return self.org_ids[self.spec_org_aliases[ref]]
        rows = self.orgs_by_alias.get(ref, [])
        return rows[0]["organization_id"] if len(rows) == 1 else None

    def team_ref(self, ref: str) -> str | None:
        if ref in self.spec_team_ids:
            return self.team_ids[self.spec_team_ids[ref]]
        if ref in self.team_by_id:
            return ref
        if ref in self.spec_team_aliases:
            return self.team_ids[self.spec_team_aliases[ref]]
        rows = self.teams_by_alias.get(ref, [])
        return rows[0]["team_id"] if len(rows) == 1 else None

    # diffing ------------------------------------------------------------------------------
    def _diff(self, current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Change]:
        return [Change(name, current.get(name), value) for name, value in desired.items()
                if not _same(name, current.get(name), value)]

    def _budget_fields(self, fields: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
        """Desired budget columns, with budget_reset_at recomputed when the duration changes (or was never set)."""
        desired = {k: fields[k] for k in ("max_budget", "soft_budget", "tpm_limit", "rpm_limit", "budget_duration")
                   if k in fields}
        if "budget_duration" in desired:
            duration = desired["budget_duration"]
            if current is None or current.get("budget_duration") != duration or \
                    (duration and current.get("budget_reset_at") is None):
                desired["budget_reset_at"] = self.reset_at(duration)
        return desired

    def plan_orgs(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        xmins: dict[str, str] = {}
        for org, org_id in zip(self.spec.organizations, self.org_ids):
            row = self.org_by_id.get(org_id)
            fields = dict(org.fields)
            budget = self._budget_fields(fields, row)
            own = {k: fields[k] for k in ORG_COLUMNS if k in fields}
            label = org.organization_alias or (row or {}).get("organization_alias") or org_id
            if row is None:
                budget_id = uuids.v4()
                self.budget_inserts.append({"budget_id": budget_id, **{k: budget.get(k) for k in BUDGET_COLUMNS}})
                new = {"organization_id": org_id, "organization_alias": org.organization_alias, "budget_id": budget_id,
                       "models": own.get("models") or [], "metadata": own.get("metadata") or {}}
                inserts.append(new)
                self.items.append(Item("organization", org_id, label, CREATE,
                                       tuple(Change(k, None, v) for k, v in {**own, **budget}.items())))
                self._audit("created", "organization", org_id, None, {**new, **budget})
                continue
            changes = self._diff(row, own)
            budget_changes = self._diff(row, budget)
            if budget_changes and row.get("budget_id"):
                self._budget_update(row["budget_id"], row, budget, row["budget_xmin"])
            if changes or budget_changes:  # LiteLLM's /organization/update stamps the org row for either
                merged = {k: row.get(k) for k in ORG_COLUMNS} | own
                updates.append({"organization_id": org_id, **merged})
                xmins[org_id] = row["xmin"]
            all_changes = tuple(changes + budget_changes)
            self.items.append(Item("organization", org_id, label, UPDATE if all_changes else UNCHANGED, all_changes))
            if all_changes:
                self._audit("updated", "organization", org_id, {c.field: c.old for c in all_changes},
                            {c.field: c.new for c in all_changes})
                self.refs.append(EntityRef("org", org_id))
        return inserts, updates, xmins

    def _budget_update(self, budget_id: str, current: Mapping[str, Any], desired: Mapping[str, Any],
                       xmin: str) -> None:
        merged = {k: current.get(k) for k in BUDGET_COLUMNS} | dict(desired)
        self.budget_updates[budget_id] = {"budget_id": budget_id, **merged}
        self.budget_xmin[budget_id] = xmin

    def plan_teams(self) -> None:
        self.team_state: dict[str, dict[str, Any]] = {}  # team_id -> row being built (insert or merged update)
        self.team_new: set[str] = set()
        self.team_changes: dict[str, list[Change]] = {}
        self.team_xmin: dict[str, str] = {}
        self.team_index: dict[str, int] = {}
        for index, (team, team_id) in enumerate(zip(self.spec.teams, self.team_ids)):
            self.team_index[team_id] = index
            row = self.team_by_id.get(team_id)
            fields = dict(team.fields) if row is not None else self.settings.new_team(team.fields)
            if fields.get("organization_id"):
                fields["organization_id"] = self.org_ref(fields["organization_id"])
            budget = self._budget_fields(fields, row)
            desired = {k: v for k, v in fields.items() if k in TEAM_COLUMNS} | budget
            member_budget = {MEMBER_BUDGET_MAP[k]: v for k, v in team.member_budget.items()}
            if row is None:
                metadata = dict(desired.get("metadata") or {})
                if member_budget:
                    budget_id = uuids.v4()
                    mb = self._budget_fields(member_budget, None)
                    self.budget_inserts.append({"budget_id": budget_id, **{k: mb.get(k) for k in BUDGET_COLUMNS}})
                    metadata["team_member_budget_id"] = budget_id
                new = {"team_id": team_id, **dict.fromkeys(TEAM_COLUMNS), "members_with_roles": [],
                       "models": [], "blocked": False, "team_member_permissions": [], **desired, "metadata": metadata}
                self.team_state[team_id] = new
                self.team_new.add(team_id)
                self.team_changes[team_id] = [Change(k, None, v) for k, v in {**desired, **team.member_budget}.items()]
                continue
            link = (row.get("metadata") or {}).get("team_member_budget_id")
            if "metadata" in desired and link:  # a metadata rewrite keeps the member budget link
                desired["metadata"] = {**(desired["metadata"] or {}), "team_member_budget_id": link}
            merged = {"team_id": team_id, **{k: row.get(k) for k in TEAM_COLUMNS}}
            merged["members_with_roles"] = _roster(row.get("members_with_roles"))
            merged["metadata"] = dict(row.get("metadata") or {})
            changes = self._diff(row, desired)
            for change in changes:
                merged[change.field] = change.new
            if member_budget:
                current_mb = {column: row.get("member_" + column) for column in BUDGET_COLUMNS}
                if row.get("member_budget_id"):
                    wanted = self._budget_fields(member_budget, current_mb)
                    mb_changes = self._diff(current_mb, wanted)
                    if mb_changes:
                        self._budget_update(row["member_budget_id"], current_mb, wanted, row["member_budget_xmin"])
                        changes += [Change(MEMBER_BUDGET_FIELD[c.field], c.old, c.new) for c in mb_changes
                                    if c.field in MEMBER_BUDGET_FIELD]
                else:
                    budget_id = uuids.v4()
                    mb = self._budget_fields(member_budget, None)
                    self.budget_inserts.append({"budget_id": budget_id, **{k: mb.get(k) for k in BUDGET_COLUMNS}})
                    merged["metadata"] = {**merged["metadata"], "team_member_budget_id": budget_id}
                    changes += [Change(k, None, v) for k, v in team.member_budget.items()]
            self.team_state[team_id] = merged
            self.team_changes[team_id] = changes
            self.team_xmin[team_id] = row["xmin"]

    def team_row(self, team_id: str) -> dict[str, Any]:
        """The working copy of a team a membership touches (a team only in the database included)."""
        if team_id not in self.team_state:
            row = self.team_by_id[team_id]
            merged = {"team_id": team_id, **{k: row.get(k) for k in TEAM_COLUMNS}}
            merged["members_with_roles"] = _roster(row.get("members_with_roles"))
            merged["metadata"] = dict(row.get("metadata") or {})
            self.team_state[team_id] = merged
            self.team_changes[team_id] = []
            self.team_xmin[team_id] = row["xmin"]
        return self.team_state[team_id]

    def plan_users(self) -> None:
        self.user_state: dict[str, dict[str, Any]] = {}
        self.user_new: set[str] = set()
        self.user_changes: dict[str, list[Change]] = {}
        self.user_label: dict[str, str] = {}
        by_id, new_user, budget_fields = self.user_by_id, self.settings.new_user, self._budget_fields
        for user, user_id in zip(self.spec.users, self.user_ids):
            row = by_id.get(user_id)
            fields = user.fields if row is not None else new_user(user.fields, implied=user.implied)
            desired = {k: v for k, v in fields.items() if k in USER_FIELDSET}
            if not BUDGET_FIELDSET.isdisjoint(fields):
                desired |= budget_fields(fields, row)
            self.user_label[user_id] = user.user_email or (row or {}).get("user_email") or user_id
            if row is None:
                if user.implied:  # added as a member: LiteLLM's new-member defaults
                    desired.setdefault("user_role", "internal_user")
                self.user_state[user_id] = {"user_id": user_id, **USER_NULLS, "models": [], "metadata": {},
                                            "teams": [], **desired}
                self.user_new.add(user_id)
                self.user_changes[user_id] = [Change(k, None, v) for k, v in desired.items()]
                continue
            if user.implied:
                desired.pop("user_email", None)  # a member entry does not rewrite a known user's email
            merged = {"user_id": user_id, **{k: row.get(k) for k in USER_COLUMNS}}
            merged["teams"] = list(row.get("teams") or [])
            changes = self._diff(row, desired)
            for change in changes:
                merged[change.field] = change.new
            self.user_state[user_id] = merged
            self.user_changes[user_id] = changes

    def plan_memberships(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str],
                                        list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
        tm_insert: list[dict[str, Any]] = []
        tm_update: list[dict[str, Any]] = []
        tm_xmin: dict[str, str] = {}
        om_insert: list[dict[str, Any]] = []
        om_update: list[dict[str, Any]] = []
        om_xmin: dict[str, str] = {}
        roster_index: dict[str, dict[str, list[int]]] = {}
        self.roster_touched: set[str] = set()
        touched = self.roster_touched
        user_ids, users, targets, tm_rows = self.user_ids, self.user_state, self.member_targets, self.tm_rows
        items, refs, labels = self.items, self.refs, self.user_label
        for m in self.memberships:
            user_id = user_ids[m.user]
            user = users[user_id]
            if m.kind == "org":
                self._org_member(m, user_id, om_insert, om_update, om_xmin)
                continue
            team_id = targets["team", m.target]
            if team_id is None:
                continue
            team = self.team_row(team_id)
            roster = team["members_with_roles"]
            index = roster_index.get(team_id)
            if index is None:
                index = roster_index[team_id] = {}
                for position, entry in enumerate(roster):
                    for key in (entry.get("user_id"), "@" + (entry.get("user_email") or "").lower()):
                        if key and key != "@":
                            index.setdefault(key, []).append(position)
            email = user.get("user_email")
            by_id = index.get(user_id)
            by_email = index.get("@" + email.lower()) if email else None
            positions = sorted({*(by_id or ()), *(p for p in by_email or () if not roster[p].get("user_id"))}) \
                if by_id or by_email else ()
            changes: list[Change] = []
            present = []
            if positions:
                entry = roster[positions[0]]
                old_role = entry.get("role")
                role = m.role or old_role or DEFAULT_ROLE["team"]
                if old_role != role:
                    changes.append(Change("role", old_role, role))
                fixed = {"user_id": user_id, "user_email": entry.get("user_email") or email, "role": role}
                if fixed != entry or len(positions) > 1:
                    if len(positions) > 1:
                        changes.append(Change("members_with_roles entries", len(positions), 1))
                    for position in positions[1:]:
                        roster[position] = None  # type: ignore[call-overload]
                    roster[positions[0]] = fixed
                    touched.add(team_id)
                present.append("roster")
            else:
                role = m.role or DEFAULT_ROLE["team"]
                roster.append({"user_id": user_id, "user_email": email, "role": role})
                index.setdefault(user_id, []).append(len(roster) - 1)
                touched.add(team_id)
                changes.append(Change("role", None, role))
            if team_id in user["teams"]:
                present.append("teams")
            else:
                user["teams"] = [*user["teams"], team_id]
                if user_id not in self.user_new:
                    changes.append(Change("user.teams", False, True))
            row = tm_rows.get((user_id, team_id))
            default_budget = (team.get("metadata") or {}).get("team_member_budget_id")
            if row is not None:
                present.append("row")
                if m.max_budget is not None:
                    own = row["budget_id"] and row["budget_id"] != default_budget
                    if own and not _same("max_budget", row["max_budget"], m.max_budget):
                        self._budget_update(row["budget_id"], row, {"max_budget": m.max_budget}, row["budget_xmin"])
                        changes.append(Change("max_budget_in_team", row["max_budget"], m.max_budget))
                    elif not own:  # a member budget of its own, never the team's shared default
                        budget_id = self._member_budget(m.max_budget)
                        tm_update.append({"user_id": user_id, "team_id": team_id, "budget_id": budget_id})
                        tm_xmin[user_id + SEP + team_id] = row["xmin"]
                        changes.append(Change("max_budget_in_team", row["max_budget"], m.max_budget))
            else:
                budget_id = default_budget
                if m.max_budget is not None:
                    budget_id = self._member_budget(m.max_budget)
                    changes.append(Change("max_budget_in_team", None, m.max_budget))
                tm_insert.append({"user_id": user_id, "team_id": team_id, "budget_id": budget_id})
                if present:
                    changes.append(Change("LiteLLM_TeamMembership", None, "row"))
            action = CREATE if not present else (UPDATE if changes else UNCHANGED)
            label = f"{labels.get(user_id, user_id)} in {team.get('team_alias') or team_id}"
            items.append(Item("team_member", f"{user_id}@{team_id}", label, action, tuple(changes)))
            if action != UNCHANGED:
                refs.append(EntityRef("team_member", user_id, team_id))
            budget_changes = [c for c in changes if c.field == "max_budget_in_team"] if m.max_budget is not None \
                else None
            if budget_changes:  # the roster audit row (LiteLLM's shape) does not carry member budgets
                self._audit("updated" if present else "created", "team_member", f"{team_id}:{user_id}",
                            {c.field: c.old for c in budget_changes} if present else None,
                            {c.field: c.new for c in budget_changes})
        for team_id in self.roster_touched:
            team = self.team_state[team_id]
            team["members_with_roles"] = [e for e in team["members_with_roles"] if e is not None]
        return tm_insert, tm_update, tm_xmin, om_insert, om_update, om_xmin

    def _member_budget(self, max_budget: float) -> str:
        """A new LiteLLM_BudgetTable row for one member's budget in a team (max_budget_in_team)."""
        budget_id = uuids.v4()
        self.budget_inserts.append({"budget_id": budget_id, **dict.fromkeys(BUDGET_COLUMNS),
                                    "max_budget": max_budget})
        return budget_id

    def _org_member(self, m: Membership, user_id: str, inserts: list[dict[str, Any]], updates: list[dict[str, Any]],
                    xmins: dict[str, str]) -> None:
        org_id = self.member_targets["org", m.target]
        if org_id is None:
            return
        row = self.om_rows.get((user_id, org_id))
        label = f"{self.user_label.get(user_id, user_id)} in {m.target}"
        if row is None:
            role = m.role or DEFAULT_ROLE["org"]
            inserts.append({"user_id": user_id, "organization_id": org_id, "user_role": role})
            self.items.append(Item("org_member", f"{user_id}@{org_id}", label, CREATE, (Change("role", None, role),)))
            self._audit("created", "org_member", f"{org_id}:{user_id}", None,
                        {"organization_id": org_id, "user_id": user_id, "user_role": role})
        elif m.role is not None and row["user_role"] != m.role:
            updates.append({"user_id": user_id, "organization_id": org_id, "user_role": m.role})
            xmins[user_id + SEP + org_id] = row["xmin"]
            self.items.append(Item("org_member", f"{user_id}@{org_id}", label, UPDATE,
                                   (Change("role", row["user_role"], m.role),)))
            self._audit("updated", "org_member", f"{org_id}:{user_id}", {"user_role": row["user_role"]},
                        {"user_role": m.role})
        else:
            self.items.append(Item("org_member", f"{user_id}@{org_id}", label, UNCHANGED))

    def plan_keys(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        xmins: dict[str, str] = {}
        by_alias: dict[str, list[dict[str, Any]]] = {}
        for row in self.key_rows:
            by_alias.setdefault(row["key_alias"], []).append(row)
        for key in self.spec.keys:
            rows = by_alias.get(key.key_alias, [])
            if len(rows) > 1:
                self.problem(field_loc(key, "key_alias"), f"{key.where}.key_alias",
                             f"alias {key.key_alias!r} matches {len(rows)} keys in the database")
                continue
            fields = dict(key.fields)
            if fields.get("team_id"):
                fields["team_id"] = self.team_ref(fields["team_id"])
            duration = fields.pop("duration", None)
            row = rows[0] if rows else None
            desired = {k: v for k, v in fields.items() if k in KEY_COLUMNS} | self._budget_fields(fields, row)
            if row is None:
                created = make_key(key.raw_key, key.key_alias)
                new = key_row(created, desired, duration, self.now)
                inserts.append(new)
                self.created_keys.append(created)
                label = created.key_name if key.raw_key else key.key_alias  # a generated key's name is this run's
                self.items.append(Item("key", key.key_alias, label, CREATE,
                                       tuple(Change(k, None, v) for k, v in desired.items())))
                self._audit("created", "key", created.token, None, {k: v for k, v in new.items()})
                continue
            changes = self._diff(row, desired)
            label = row.get("key_name") or key.key_alias
            if changes:
                merged = {"token": row["token"], **{k: row.get(k) for k in KEY_COLUMNS}}
                for change in changes:
                    merged[change.field] = change.new
                updates.append(merged)
                xmins[row["token"]] = row["xmin"]
                self._audit("updated", "key", row["token"], {c.field: c.old for c in changes},
                            {c.field: c.new for c in changes})
                self.refs.append(EntityRef("key", row["token"]))
            self.items.append(Item("key", key.key_alias, label, UPDATE if changes else UNCHANGED, tuple(changes)))
        return inserts, updates, xmins

    def _audit(self, action: str, kind: str, object_id: str, before: Any, after: Any) -> None:
        if self.options.audit:
            table = {"org_member": "LiteLLM_OrganizationMembership",
                     "team_member": "LiteLLM_TeamMembership"}.get(kind) or TABLE[kind]
            self.audit.append(audit.row(action, table, object_id, before, after))

    # assembling ---------------------------------------------------------------------------
    def build(self) -> Plan:
        self.settings = proxy_settings.load(self.conn, self.options.proxy_config)
        self.read()
        self.resolve()
        self.raise_problems()
        self.read_memberships()
        org_inserts, org_updates, org_xmin = self.plan_orgs()
        self.plan_teams()
        self.plan_users()
        tm_insert, tm_update, tm_xmin, om_insert, om_update, om_xmin = self.plan_memberships()
        key_inserts, key_updates, key_xmin = self.plan_keys()
        self.raise_problems()
        team_items, team_inserts, team_updates, team_xmin = self.finish_teams()
        user_items, user_inserts, user_updates, user_xmin = self.finish_users()
        items = self._order(team_items, user_items)
        budget_updates = list(self.budget_updates.values())
        steps = [Step(q, tuple(rows)) for q, rows in (
            ("budget_row/copy_in", self.budget_inserts), ("org/insert_many", org_inserts),
            ("team/copy_in", team_inserts), ("user/copy_in", user_inserts),
            ("budget_row/update_many", budget_updates), ("org/update_many", org_updates),
            ("team/update_many", team_updates), ("user/update_many", user_updates),
            ("team/copy_memberships", tm_insert), ("team/update_memberships", tm_update),
            ("org/insert_memberships", om_insert), ("org/update_memberships", om_update),
            ("key/insert_many", key_inserts), ("key/update_many", key_updates),
            ("audit/copy_in", self.audit)) if rows]
        locks = [LockSet(q, expected, params) for q, expected, params in (
            ("budget_row/lock", self.budget_xmin, {"ids": sorted(self.budget_xmin)}),
            ("org/lock", org_xmin, {"ids": sorted(org_xmin)}),
            ("team/lock", team_xmin, {"ids": sorted(team_xmin)}),
            ("user/lock", user_xmin, {"ids": sorted(user_xmin)}),
            ("team/lock_memberships", tm_xmin, _pairs(tm_xmin, "team_ids")),
            ("org/lock_memberships", om_xmin, _pairs(om_xmin, "org_ids")),
            ("key/lock", key_xmin, {"ids": sorted(key_xmin)})) if expected]
        rosters = sorted(self.roster_touched)
        return Plan(tuple(items), tuple(steps), tuple(locks), tuple(rosters), tuple(dict.fromkeys(self.refs)),
                    tuple(self.created_keys), self.now, self.settings.not_applied)

    def finish_teams(self) -> tuple[list[Item], list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
        items: list[Item] = []
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        xmins: dict[str, str] = {}
        for team_id, state in self.team_state.items():
            changes = list(self.team_changes[team_id])
            declared = team_id in self.team_index
            label = state.get("team_alias") or team_id
            if team_id in self.team_new:
                inserts.append(state)
                items.append(Item("team", team_id, label, CREATE, tuple(changes)))
                self._audit("created", "team", team_id, None, state)
                continue
            row = self.team_by_id[team_id]
            roster_changed = team_id in self.roster_touched
            if changes or roster_changed:
                updates.append(state)
                xmins[team_id] = self.team_xmin[team_id]
                self.refs.append(EntityRef.team(team_id, row.get("team_alias"), state.get("team_alias")))
                before = {c.field: c.old for c in changes}
                after = {c.field: c.new for c in changes}
                if roster_changed:  # LiteLLM's member_add audit shape: alias and the whole roster
                    before |= {"team_alias": row.get("team_alias"), "members_with_roles": row.get("members_with_roles")}
                    after |= {"team_alias": state.get("team_alias"), "members_with_roles": state["members_with_roles"]}
                self._audit("updated", "team", team_id, before, after)
            if declared:
                items.append(Item("team", team_id, label, UPDATE if changes else UNCHANGED, tuple(changes)))
        return items, inserts, updates, xmins

    def finish_users(self) -> tuple[list[Item], list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
        items: list[Item] = []
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        xmins: dict[str, str] = {}
        for user_id, state in self.user_state.items():
            changes = self.user_changes[user_id]
            label = self.user_label[user_id]
            if user_id in self.user_new:
                inserts.append(state)
                items.append(Item("user", user_id, label, CREATE, tuple(changes)))
                self._audit("created", "user", user_id, None, state)
                continue
            row = self.user_by_id[user_id]
            teams_changed = list(row.get("teams") or []) != state["teams"]
            if changes or teams_changed:
                updates.append(state)
                xmins[user_id] = row["xmin"]
                self.refs.append(EntityRef("user", user_id))
                before = {c.field: c.old for c in changes}
                after = {c.field: c.new for c in changes}
                if teams_changed:
                    before["teams"], after["teams"] = row.get("teams"), state["teams"]
                self._audit("updated", "user", user_id, before, after)
            items.append(Item("user", user_id, label, UPDATE if changes else UNCHANGED, tuple(changes)))
        return items, inserts, updates, xmins

    def _order(self, team_items: list[Item], user_items: list[Item]) -> list[Item]:
        rank = {kind: n for n, kind in enumerate(KINDS)}
        return sorted(self.items + team_items + user_items, key=lambda i: rank[i.kind])

    def raise_problems(self) -> None:
        if self.problems:  # once each: a missing default team is found once per user it would join
            raise InvalidSpec(list(dict.fromkeys(text for _, text in sorted(self.problems, key=lambda p: p[0]))),
                              source=self.spec.source)


def _pairs(xmins: Mapping[str, str], second: str) -> dict[str, Any]:
    pairs = sorted(tuple(k.split(SEP, 1)) for k in xmins)
    return {"user_ids": [p[0] for p in pairs], second: [p[1] for p in pairs]}


def value_taken(holder: Mapping[str, Any]) -> str:
    """Why a chosen raw key cannot be created: the key already holding it, by alias or token prefix
    (never the raw key or its whole hash)."""
    name = f"alias {holder['key_alias']!r}" if holder.get("key_alias") else f"token {holder['token'][:12]}…"
    return f"a key with this value already exists ({name})"


def make_key(raw: str | None, alias: str | None) -> CreatedKey:
    """A new key: the caller's raw key or a fresh `sk-` + token_urlsafe(16), as /key/generate makes it."""
    value = raw or new_raw_key()
    return CreatedKey(alias, hash_key(value), key_name(value), value)


def key_row(created: CreatedKey, fields: Mapping[str, Any], duration: str | None, now: datetime) -> dict[str, Any]:
    """The LiteLLM_VerificationToken row /key/generate writes (expires = now + duration, exact)."""
    expires = utc_naive(now + timedelta(seconds=durations.duration_seconds(duration, now))) if duration else None
    row = {"token": created.token, "key_name": created.key_name, "key_alias": created.key_alias,
           **dict.fromkeys(KEY_COLUMNS), "models": [], "metadata": {}, "allowed_routes": [], "expires": expires}
    row.update({k: v for k, v in fields.items() if k in KEY_COLUMNS})
    return row


def make_plan(conn: psycopg.Connection, spec: Spec, options: Options = Options(),
              now: datetime | None = None) -> Plan:
    """The plan for `spec` against the database as it is now (reads only)."""
    return _Planner(conn, spec, options, now or datetime.now(timezone.utc)).build()


# -- applying ----------------------------------------------------------------------------------


def apply_plan(conn: psycopg.Connection, plan: Plan, options: Options) -> int:
    """Lock, verify and write the plan inside the caller's transaction; returns rows written."""
    for team_id in plan.roster_locks:
        sqlfiles.run(conn, "team/lock_roster", {"team_id": team_id})
    for lock in plan.locks:
        found = {r["id"]: r["xmin"] for r in sqlfiles.run(conn, lock.query, lock.params)}
        if found != dict(lock.expected):
            raise StalePlan(lock.query)
    import psycopg.errors

    written = 0
    now = utc_naive(plan.now)
    for step in plan.steps:
        try:
            count = bulk.write(conn, step.query, step.rows, now=now, actor=options.actor)
        except psycopg.errors.UniqueViolation as exc:  # a row created meanwhile: re-plan
            raise StalePlan(step.query) from exc
        if count != step.expect:
            raise StalePlan(f"{step.query}: {count} of {step.expect} rows")
        written += count
    return written


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

    @property
    def refs(self) -> tuple[EntityRef, ...]:
        return self.plan.refs


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
) -> Outcome:
    """Plan `spec` and, unless `dry_run`, apply it: one transaction, or one per `batch_size` users.

    `--dry-run` executes the real statements in a transaction that is rolled back. Every
    transaction holds the provisioning advisory lock, so two runs never interleave; a stale plan,
    deadlock or lock timeout re-runs the whole transaction.
    """
    import psycopg

    from litellm_dbctl.db import database

    moment = now or datetime.now(timezone.utc)
    try:
        conn = database.connect(target, command=command)
    except OperationalError:
        spec.check()  # the file's own problems are worth more than "database unreachable"
        raise
    with conn:
        def attempt(sub: Spec, *, execute: bool, commit: bool) -> tuple[Plan, int]:
            """Plan `sub` under the provisioning lock; execute it (dry run: then roll back)."""
            with conn.transaction(force_rollback=not commit), database.advisory_lock(
                    conn, database.family_key(FAMILY), timeout=lock_timeout, what="provisioning", scope="xact"):
                plan = make_plan(conn, sub, options, moment)
                written = apply_plan(conn, plan, options) if execute and plan.changed else 0
                return plan, written

        if batch_size is None or dry_run or len(spec.users) <= batch_size:
            plan, written = retrying(lambda: attempt(spec, execute=True, commit=not dry_run))
            return Outcome(plan, not dry_run, (Chunk(1, len(spec.users), plan.summary(), written),) if not dry_run
                           else (), plan.created_keys if not dry_run else (), written if not dry_run else 0)

        full, _ = retrying(lambda: attempt(spec, execute=False, commit=False))  # the whole file's plan and problems
        chunks: list[Chunk] = []
        keys: list[CreatedKey] = []
        refs: list[EntityRef] = []
        indexes = list(range(len(spec.users)))
        starts = list(range(0, len(indexes), batch_size))
        total = 0
        committed: list[Plan] = []
        for number, start in enumerate(starts, 1):
            sub = spec.subset(indexes[start:start + batch_size], with_keys=number == len(starts))
            try:
                plan, written = retrying(lambda sub=sub: attempt(sub, execute=True, commit=True))  # type: ignore[misc]
            except (DbctlError, psycopg.Error) as exc:  # chunks 1..number-1 stay committed: say so, with them
                done = Plan(_merged_items(committed), refs=_merged_refs(refs), now=full.now,
                            not_applied=full.not_applied)
                raise ChunkFailed(number, len(starts), Outcome(done, True, tuple(chunks), tuple(keys), total),
                                  exc) from exc
            committed.append(plan)
            chunk = Chunk(number, len(sub.users), plan.summary(), written)
            chunks.append(chunk)
            keys.extend(plan.created_keys)
            refs.extend(plan.refs)
            total += written
            if on_chunk:
                on_chunk(chunk, len(starts))
        merged = Plan(full.items, refs=_merged_refs(refs), now=full.now, not_applied=full.not_applied)
        return Outcome(merged, True, tuple(chunks), tuple(keys), total)


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


def retrying(attempt: Callable[[], Any], tries: int = 5, *, what: str = "provisioning") -> Any:
    """Run a plan-and-apply `attempt` again when its plan went stale (or on a deadlock or lock timeout)."""
    from litellm_dbctl.db import database

    for _ in range(tries):
        try:
            return database.retry(attempt, what=what)
        except StalePlan:
            continue
    raise OperationalError(f"{what}: rows kept changing while dbctl planned; gave up after {tries} attempts",
                           hint="a proxy or another tool is rewriting the same rows; retry")


def invalidate(redis_url: str, refs: Iterable[EntityRef], *, namespace: str | None = None) -> Any:
    """Drop the proxies' cached copies of changed objects (litellm-database.md §6), never their spend
    counters: provisioning changes no spend, and the counters hold increments the proxies have not
    flushed to the database yet (deleting them re-seeds from the lagging column, undercounting)."""
    from litellm_dbctl.cache import invalidate as cache

    return cache.invalidate(redis_url, list(refs), namespace=namespace, counters=False)


# -- removing members --------------------------------------------------------------------------


def find_user(conn: psycopg.Connection, ref: str) -> dict[str, Any]:
    """The user a reference names: user_id, else sso_user_id, else email (case-insensitive, unique)."""
    rows = sqlfiles.run(conn, "user/read_for_plan", {"ids": [ref], "sso_ids": [ref], "emails": [ref.lower()]})
    for match in (lambda r: r["user_id"] == ref, lambda r: r["sso_user_id"] == ref,
                  lambda r: (r["user_email"] or "").lower() == ref.lower()):
        found = [r for r in rows if match(r)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise InvalidInput(f"email {ref!r} matches {len(found)} users: "
                               f"{', '.join(sorted(r['user_id'] for r in found))}; give the user_id")
    raise InvalidInput(f"no user {ref!r} (by user_id, sso_user_id or email)")


def find_group(conn: psycopg.Connection, kind: str, ref: str) -> dict[str, Any]:
    """The team or organization a reference names (id, else a unique alias)."""
    query, id_name, alias_name = ("team/read_for_plan", "team_id", "team_alias") if kind == "team" else \
        ("org/read_for_plan", "organization_id", "organization_alias")
    rows = sqlfiles.run(conn, query, {"ids": [ref], "aliases": [ref]})
    exact = [r for r in rows if r[id_name] == ref]
    if exact:
        return exact[0]
    if len(rows) == 1:
        return rows[0]
    what = "team" if kind == "team" else "organization"
    if not rows:
        raise InvalidInput(f"no {what} {ref!r} (by id or alias)")
    raise InvalidInput(f"{what} alias {ref!r} matches {len(rows)}: {', '.join(sorted(r[id_name] for r in rows))}")


def remove_member(target: Target, kind: str, group: str, user: str, *, options: Options = Options(),
                  dry_run: bool = False, lock_timeout: float = 30.0) -> Outcome:
    """Undo a membership everywhere LiteLLM keeps it: for a team the roster entry
    (members_with_roles), UserTable.teams and the LiteLLM_TeamMembership row; for an organization the
    LiteLLM_OrganizationMembership row; and the member's own budget row, if nothing else points at it
    (else every add/remove cycle would leave one behind). Removing a non-member changes nothing."""
    from litellm_dbctl.db import database

    now = datetime.now(timezone.utc)

    def attempt() -> Outcome:
        with database.connect(target, command=f"{kind} remove-member") as conn, \
                conn.transaction(force_rollback=dry_run), \
                database.advisory_lock(conn, database.family_key(FAMILY), timeout=lock_timeout,
                                       what="provisioning", scope="xact"):
            user_row = find_user(conn, user)
            group_row = find_group(conn, kind, group)
            plan = (_team_removal if kind == "team" else _org_removal)(conn, group_row, user_row, options, now)
            written = apply_plan(conn, plan, options) if plan.changed else 0
            return Outcome(plan, not dry_run, (), (), written)

    for _ in range(5):
        try:
            return database.retry(attempt, what=f"{kind} remove-member")
        except StalePlan:
            continue
    raise OperationalError(f"{kind} remove-member: rows kept changing; gave up")


def _team_removal(conn: psycopg.Connection, team: dict[str, Any], user: dict[str, Any], options: Options,
                  now: datetime) -> Plan:
    team_id, user_id = team["team_id"], user["user_id"]
    email = (user.get("user_email") or "").lower()
    roster = _roster(team.get("members_with_roles"))
    kept = [e for e in roster if not (e.get("user_id") == user_id or
                                      (not e.get("user_id") and email and (e.get("user_email") or "").lower() == email))]
    teams = [t for t in (user.get("teams") or []) if t != team_id]
    membership = sqlfiles.run(conn, "team/memberships_for_plan", {"team_ids": [team_id], "user_ids": [user_id]})
    changes: list[Change] = []
    steps: list[Step] = []
    locks: list[LockSet] = []
    audit_rows: list[dict[str, Any]] = []
    if len(kept) != len(roster):
        state = {"team_id": team_id, **{k: team.get(k) for k in TEAM_COLUMNS}, "members_with_roles": kept}
        steps.append(Step("team/update_many", (state,)))
        locks.append(LockSet("team/lock", {team_id: team["xmin"]}, {"ids": [team_id]}))
        changes.append(Change("members_with_roles entries", len(roster) - len(kept), 0))
        audit_rows.append(audit.row("updated", TABLE["team"], team_id,
                                    {"team_alias": team.get("team_alias"), "members_with_roles": roster},
                                    {"team_alias": team.get("team_alias"), "members_with_roles": kept}))
    if len(teams) != len(user.get("teams") or []):
        state = {"user_id": user_id, **{k: user.get(k) for k in USER_COLUMNS}, "teams": teams}
        steps.append(Step("user/update_many", (state,)))
        locks.append(LockSet("user/lock", {user_id: user["xmin"]}, {"ids": [user_id]}))
        changes.append(Change("user.teams", True, False))
        audit_rows.append(audit.row("updated", TABLE["user"], user_id, {"teams": user.get("teams")}, {"teams": teams}))
    if membership:
        steps.append(Step("team/delete_membership", ({"user_id": user_id, "team_id": team_id},)))
        changes.append(Change("LiteLLM_TeamMembership", "row", None))
        budget = _own_budget(conn, membership[0]["budget_id"],
                             (team.get("metadata") or {}).get("team_member_budget_id"))
        if budget is not None:
            steps.append(Step("budget_row/delete_unheld", ({"budget_id": budget["budget_id"]},)))
            changes.append(Change("LiteLLM_BudgetTable", budget, None))
            audit_rows.append(audit.row("deleted", "LiteLLM_TeamMembership", f"{team_id}:{user_id}",
                                        {"budget_id": budget["budget_id"], "max_budget_in_team": budget["max_budget"]},
                                        None))
    if options.audit and audit_rows:
        steps.append(Step("audit/copy_in", tuple(audit_rows)))
    label = f"{user.get('user_email') or user_id} in {team.get('team_alias') or team_id}"
    item = Item("team_member", f"{user_id}@{team_id}", label, DELETE if changes else UNCHANGED, tuple(changes))
    refs = (EntityRef.team(team_id, team.get("team_alias")), EntityRef("user", user_id),
            EntityRef("team_member", user_id, team_id)) if changes else ()
    return Plan((item,), tuple(steps), tuple(locks), (team_id,) if changes else (), refs, (), now)


def _org_removal(conn: psycopg.Connection, org: dict[str, Any], user: dict[str, Any], options: Options,
                 now: datetime) -> Plan:
    org_id, user_id = org["organization_id"], user["user_id"]
    rows = sqlfiles.run(conn, "org/memberships_for_plan", {"org_ids": [org_id], "user_ids": [user_id]})
    label = f"{user.get('user_email') or user_id} in {org.get('organization_alias') or org_id}"
    if not rows:
        return Plan((Item("org_member", f"{user_id}@{org_id}", label, UNCHANGED),), now=now)
    steps = [Step("org/delete_membership", ({"user_id": user_id, "organization_id": org_id},))]
    changes = [Change("role", rows[0]["user_role"], None)]
    before = {"user_role": rows[0]["user_role"]}
    budget = _own_budget(conn, rows[0]["budget_id"], org.get("budget_id"))
    if budget is not None:  # max_budget_in_organization, set by the proxy's /organization/member_update
        steps.append(Step("budget_row/delete_unheld", ({"budget_id": budget["budget_id"]},)))
        changes.append(Change("LiteLLM_BudgetTable", budget, None))
        before |= {"budget_id": budget["budget_id"], "max_budget_in_organization": budget["max_budget"]}
    if options.audit:
        steps.append(Step("audit/copy_in", (audit.row("deleted", "LiteLLM_OrganizationMembership",
                                                          f"{org_id}:{user_id}", before, None),)))
    item = Item("org_member", f"{user_id}@{org_id}", label, DELETE, tuple(changes))
    return Plan((item,), tuple(steps), now=now, refs=(EntityRef("user", user_id), EntityRef("org", org_id)))


def _own_budget(conn: psycopg.Connection, budget_id: str | None, shared: str | None) -> dict[str, Any] | None:
    """The budget row a removed membership points at, if it is the membership's own: not `shared` (the
    team's default member budget, the organization's budget) and named by no other row, so it goes
    with the membership. A schema older than a table that may name it keeps it, as before."""
    if not budget_id or budget_id == shared or not sqlfiles.supported(conn, "budget_row/delete_unheld"):
        return None
    rows = sqlfiles.run(conn, "budget_row/read_for_removal", {"ids": [budget_id]})
    return rows[0] if rows else None
