"""Building a Spec from located entries: each section's entries checked field by field, members
merged into users, duplicates found, every problem collected with where it was written.

`specs` feeds it documents (YAML, JSON, CSV rows, flags); `Builder.spec` returns the records.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from sys import intern
from typing import Any

from litellm_dbctl.common.yamldoc import LMap, LSeq
from litellm_dbctl.provision import spec_fields, tokens
from litellm_dbctl.provision.spec_fields import (
    KEY_FIELDS,
    KEY_KEYS,
    MEMBER_KEYS,
    ORG_FIELDS,
    ORG_KEYS,
    ORG_ROLES,
    TEAM_FIELDS,
    TEAM_KEYS,
    TEAM_MEMBER_BUDGET,
    TEAM_ROLES,
    TIER_FIELDS,
    TIER_KEYS,
    USER_FIELDS,
    USER_KEYS,
    USER_ORG_KEYS,
    USER_TEAM_KEYS,
    Collector,
)
from litellm_dbctl.provision.spec_records import (
    BudgetSpec,
    KeySpec,
    Loc,
    Membership,
    OrgSpec,
    Reference,
    Spec,
    TeamSpec,
    UserSpec,
    field_loc,
    seal,
)

HAS_ID, HAS_EMAIL = 1, 2  # what a sealed user declares (Builder._declared)


class Builder:
    """Turns located documents into a Spec, merging members into users and collecting problems."""

    def __init__(self, source: str, chunk: int | None = None) -> None:
        self.source = source
        # With `chunk`, every `chunk` declared users are sealed (spec_records.seal) as they are read;
        # of a sealed user only its line and which of user_id and email it gave stay, for the checks
        # that later entries make against it.
        self.chunk = chunk
        self.sealed: list[bytes] = []
        self.sealed_users = self.sealed_memberships = 0
        self._lines = array("q")
        self._declares = bytearray()
        self.problems = Collector(source)
        self.orgs: list[OrgSpec] = []
        self.teams: list[TeamSpec] = []
        self.users: list[UserSpec] = []
        self.keys: list[KeySpec] = []
        self.budgets: list[BudgetSpec] = []
        self.warnings: list[str] = []
        self.memberships: list[Membership] = []
        self.references: list[Reference] = []
        self._by_id: dict[str, int] = {}
        self._by_email: dict[str, int] = {}
        self._by_sso: dict[str, int] = {}

    def loc(self, line: int) -> Loc:
        return Loc(self.source, line)

    # users
    def add_user(self, entry: LMap, where: str) -> None:
        p = self.problems
        fields = p.check(entry, where, USER_FIELDS, USER_KEYS)
        given = entry.values
        user_id = p.value(entry, "user_id", where, spec_fields.ident) if "user_id" in given else None
        email = p.value(entry, "user_email", where, spec_fields.email) if "user_email" in given else None
        sso = p.value(entry, "sso_user_id", where, spec_fields.ident) if "sso_user_id" in given else None
        if given.get("auto_create_key") is not None:
            self._auto_create_key(entry, where)
        if not (user_id or email or sso):
            if not any(k in entry.values for k in ("user_id", "user_email", "sso_user_id")):
                p.add(entry.line, where, "needs user_id, user_email or sso_user_id")
            self._user_memberships(entry, where, None)
            return
        if email is not None:
            fields["user_email"] = email
        if sso is not None:
            fields["sso_user_id"] = sso
        index = self._claim(user_id, email, sso, entry.line, where)
        if index is None:
            self._user_memberships(entry, where, None)
            return
        user = UserSpec(user_id, sso, email, fields, Loc(self.source, entry.line), where, False, entry.lines)
        new = index == self._count
        if new:
            self.users.append(user)
        else:
            self.users[index - self.sealed_users] = user
        self._user_memberships(entry, where, index)
        if self.chunk and new:  # (users are read before rosters name any: no implied user is held yet)
            self._lines.append(entry.line)
            self._declares.append((HAS_ID if user_id else 0) | (HAS_EMAIL if email else 0))
            if len(self.users) >= self.chunk:
                self._seal()

    def _auto_create_key(self, entry: LMap, where: str) -> None:
        """auto_create_key, a boolean as LiteLLM takes one ("true" too): false is what dbctl does;
        true (/user/new's default) is said once per user, since dbctl creates no key with a user."""
        at = f"{where}.auto_create_key"
        wanted = self.problems.value(entry, "auto_create_key", where, spec_fields.boolean)
        if wanted:
            self.warnings.append(f"{self.source}:{entry.at('auto_create_key')}: {at}: true: dbctl creates no key "
                                 "with a user (/user/new would); declare the user's keys under keys")

    @property
    def _count(self) -> int:
        """Users so far, sealed or held: the next one's index."""
        return self.sealed_users + len(self.users)

    def _user(self, index: int) -> UserSpec | None:
        """User `index` if held (None: sealed, a declared user)."""
        return self.users[index - self.sealed_users] if index >= self.sealed_users else None

    def _seal(self) -> None:
        """Pack the held users and their memberships (all of them: users come before rosters)."""
        self.sealed.append(seal(self.users, self.memberships))
        self.sealed_users += len(self.users)
        self.sealed_memberships += len(self.memberships)
        self.users.clear()
        self.memberships.clear()

    def _claim(self, user_id: str | None, email: str | None, sso: str | None, line: int, where: str) -> int | None:
        """The index for a declared user; a duplicate of another declared user is a problem. A user
        only named as a member so far (implied) becomes this declaration."""
        email_key = _folded(email) if email else None
        by_id, by_email, by_sso = self._by_id, self._by_email, self._by_sso
        if (not user_id or user_id not in by_id) and (not email_key or email_key not in by_email) and \
                (not sso or sso not in by_sso):  # the common case, a user named nowhere before: no loop
            index = self._count
            if user_id:
                by_id[user_id] = index
            if email_key:
                by_email[email_key] = index
            if sso:
                by_sso[sso] = index
            return index
        found = None
        for kind, value, known in (("user_id", user_id, self._by_id), ("user_email", email_key, self._by_email),
                                   ("sso_user_id", sso, self._by_sso)):
            if value is not None and value in known:
                declared = self._user(known[value])
                if declared is None or not declared.implied:
                    first = declared.loc if declared is not None else self.loc(self._lines[known[value]])
                    self.problems.add(line, where, f"duplicate {kind} {value!r} (first declared at {first})")
                    return None
                if found is None:
                    found = known[value]
        index = self._count if found is None else found
        if user_id:
            self._by_id[user_id] = index
        if email_key:
            self._by_email[email_key] = index
        if sso:
            self._by_sso[sso] = index
        return index

    def _user_memberships(self, entry: LMap, where: str, index: int | None) -> None:
        """The user's teams and organizations as memberships; for a user that cannot be added
        (`index` None), as references, only checked."""
        p = self.problems
        teams = entry.values.get("teams")
        if teams is not None:
            if not isinstance(teams, LSeq):
                p.add(entry.at("teams"), f"{where}.teams", "expected a list of team ids or {team_id, role} mappings")
            else:
                for n, item in enumerate(teams.items):
                    self._user_ref(item, teams.lines[n], f"{where}.teams[{n}]", index, "team")
        orgs = entry.values.get("organizations")
        single = entry.values.get("organization_id")
        if single is not None:
            self._user_ref(single, entry.at("organization_id"), f"{where}.organization_id", index, "org")
        if orgs is not None:
            if not isinstance(orgs, LSeq):
                p.add(entry.at("organizations"), f"{where}.organizations", "expected a list of organization ids")
            else:
                for n, item in enumerate(orgs.items):
                    self._user_ref(item, orgs.lines[n], f"{where}.organizations[{n}]", index, "org")

    def _user_ref(self, item: Any, line: int, where: str, user: int | None, kind: str) -> None:
        p = self.problems
        roles = TEAM_ROLES if kind == "team" else ORG_ROLES
        budget = None
        target: str | None
        if type(item) is str and ":" not in item and item.strip():  # `[team-a]`, the common form
            target, role = item.strip(), None
        elif isinstance(item, str):
            target, role = parse_ref(item, roles, lambda msg: p.add(line, where, msg))
            if target is None:
                return
        elif isinstance(item, LMap):
            allowed = USER_TEAM_KEYS if kind == "team" else USER_ORG_KEYS
            p.check(item, where, {}, allowed)
            names = ("team_id", "team", "team_alias") if kind == "team" else \
                ("organization_id", "organization", "organization_alias")
            given = [n for n in names if item.values.get(n) is not None]
            if len(given) != 1:
                p.add(item.line, where, f"needs exactly one of {', '.join(names)}")
                return
            target = p.value(item, given[0], where, spec_fields.ident)
            role = p.value(item, "role", where, spec_fields.choice(roles))
            if kind == "team":
                budget = p.value(item, "max_budget_in_team", where, spec_fields.number)
            if target is None:
                return
        else:
            p.add(line, where, f"expected a {kind} id or a mapping, got {spec_fields.kind(item)}")
            return
        if user is None:
            self.references.append(Reference(kind, target, self.loc(line), where))
            return
        # a team named by every user is one string, not one per user
        self.memberships.append(Membership(user, kind, intern(target), role, budget, Loc(self.source, line), where))

    def member_user(self, entry: LMap, where: str) -> int | None:
        """The user a members_with_roles entry names: a declared user, or a new implied one."""
        p = self.problems
        user_id = p.value(entry, "user_id", where, spec_fields.ident)
        email = p.value(entry, "user_email", where, spec_fields.email)
        if user_id is None and email is None:
            if "user_id" not in entry.values and "user_email" not in entry.values:
                p.add(entry.line, where, "needs user_id or user_email")
            return None
        for value, known in ((user_id, self._by_id), (email.lower() if email else None, self._by_email)):
            if value is not None and value in known:
                found = known[value]
                if user_id and email and not self._declared(found, user_id, email):  # both must agree
                    p.add(entry.line, where, f"user_id {user_id!r} and user_email {email!r} name different users")
                    return None
                return found
        index = self._count
        fields: dict[str, Any] = {"user_email": email} if email else {}
        self.users.append(UserSpec(user_id, None, email, fields, self.loc(entry.line), where, implied=True))
        if user_id:
            self._by_id[user_id] = index
        if email:
            self._by_email[_folded(email)] = index
        return index

    def _declared(self, index: int, user_id: str, email: str) -> bool:
        """Whether user `index` could be this user_id and email: each it declares is the one given. A
        sealed user is known by what the index maps to it (each user's own id and email map to it)."""
        declared = self._user(index)
        if declared is not None:
            return not ((declared.user_id and declared.user_id != user_id) or
                        (declared.user_email and declared.user_email.lower() != email.lower()))
        given = self._declares[index]
        return not ((given & HAS_ID and self._by_id.get(user_id) != index) or
                    (given & HAS_EMAIL and self._by_email.get(_folded(email)) != index))

    # teams and orgs
    def add_team(self, entry: LMap, where: str) -> None:
        p = self.problems
        fields = p.check(entry, where, TEAM_FIELDS, TEAM_KEYS)
        member_budget = p.check(LMap({k: v for k, v in entry.values.items() if k in TEAM_MEMBER_BUDGET},
                                     entry.lines, entry.line), where, TEAM_MEMBER_BUDGET, set(TEAM_MEMBER_BUDGET))
        team_id = p.value(entry, "team_id", where, spec_fields.ident)
        alias = fields.get("team_alias")
        if not team_id and not alias:
            if "team_id" not in entry.values and "team_alias" not in entry.values:  # else its own problem
                p.add(entry.line, where, "needs team_id or team_alias")
            return
        self.teams.append(TeamSpec(team_id, alias, fields, member_budget, self.loc(entry.line), where, entry.lines))
        self._members(entry, where, "team", team_id or alias)  # type: ignore[arg-type]
        self._proxy_admin(entry, where, team_id or alias)  # type: ignore[arg-type]

    def _proxy_admin(self, entry: LMap, where: str, target: str) -> None:
        """`add_proxy_admin: USER_ID`: what /team/new does when called with the master key (unless
        `disable_auto_add_proxy_admin_to_teams`): the proxy admin's user_id (`default_user_id`)
        joins a team it creates as admin, unless the request names that user already."""
        line = entry.at("add_proxy_admin")
        admin = self.problems.value(entry, "add_proxy_admin", where, spec_fields.ident)
        if admin is None:
            return
        at = f"{where}.add_proxy_admin"
        user = self.member_user(LMap({"user_id": admin}, {"user_id": line}, line), at)
        if user is not None:
            self.memberships.append(Membership(user, "team", target, "admin", None, self.loc(line), at, True))

    def add_org(self, entry: LMap, where: str) -> None:
        p = self.problems
        fields = p.check(entry, where, ORG_FIELDS, ORG_KEYS)
        org_id = p.value(entry, "organization_id", where, spec_fields.ident)
        alias = fields.get("organization_alias")
        if not org_id and not alias:
            if "organization_id" not in entry.values and "organization_alias" not in entry.values:  # else its own problem
                p.add(entry.line, where, "needs organization_id or organization_alias")
            return
        self.orgs.append(OrgSpec(org_id, alias, fields, self.loc(entry.line), where, entry.lines))
        self._members(entry, where, "org", org_id or alias)  # type: ignore[arg-type]

    def _members(self, entry: LMap, where: str, kind: str, target: str) -> None:
        p = self.problems
        key = "members_with_roles" if "members_with_roles" in entry.values else "members"
        members = entry.values.get(key)
        if members is None:
            return
        if not isinstance(members, LSeq):
            p.add(entry.at(key), f"{where}.{key}", "expected a list of {user_id|user_email, role} mappings")
            return
        roles = TEAM_ROLES if kind == "team" else ORG_ROLES
        for n, item in enumerate(members.items):
            at = f"{where}.{key}[{n}]"
            if not isinstance(item, LMap):
                p.add(members.lines[n], at, f"expected a mapping with user_id or user_email, got {spec_fields.kind(item)}")
                continue
            p.check(item, at, {}, MEMBER_KEYS if kind == "team" else MEMBER_KEYS - {"max_budget_in_team"})
            role = p.value(item, "role", at, spec_fields.choice(roles))
            budget = p.value(item, "max_budget_in_team", at, spec_fields.number) if kind == "team" else None
            user = self.member_user(item, at)
            if user is not None:
                self.memberships.append(Membership(user, kind, target, role, budget, self.loc(item.line), at))

    # budget tiers
    def add_budget(self, entry: LMap, where: str) -> None:
        p = self.problems
        fields = p.check(entry, where, TIER_FIELDS, TIER_KEYS)
        budget_id = p.value(entry, "budget_id", where, spec_fields.ident)
        if budget_id is None:
            if "budget_id" not in entry.values:  # /budget/new would make a new tier on every run
                p.add(entry.line, where, "needs budget_id (a tier's identity in a spec)")
            return
        self.budgets.append(BudgetSpec(budget_id, fields, self.loc(entry.line), where, entry.lines))

    # keys
    def add_key(self, entry: LMap, where: str) -> None:
        p = self.problems
        fields = p.check(entry, where, KEY_FIELDS, KEY_KEYS)
        alias = p.value(entry, "key_alias", where, spec_fields.ident)
        raw = p.value(entry, "key", where, spec_fields.string)
        refused = tokens.custom_key_problem(raw) if raw is not None else None
        if refused:
            p.add(entry.at("key"), f"{where}.key", refused)
            raw = None
        duration = p.value(entry, "duration", where, spec_fields.lifetime)
        if duration is not None:
            fields["duration"] = duration
        if alias is None:
            if "key_alias" not in entry.values:
                p.add(entry.line, where, "needs key_alias (the key's identity in a spec)")
            return
        self.keys.append(KeySpec(alias, raw, fields, self.loc(entry.line), where, entry.lines))

    def duplicates(self) -> None:
        """Two entries of one section naming the same object."""
        sections: tuple[tuple[Sequence[BudgetSpec | OrgSpec | TeamSpec | KeySpec], tuple[str, ...]], ...] = (
            (self.budgets, ("budget_id",)), (self.orgs, ("organization_id", "organization_alias")),
            (self.teams, ("team_id", "team_alias")),
            (self.keys, ("key_alias",)))
        for items, names in sections:
            for name in names:
                first: dict[str, Loc] = {}
                for item in items:
                    value = getattr(item, name, None)
                    if value is None:
                        continue
                    if value in first:
                        self.problems.add(field_loc(item, name).line, f"{item.where}.{name}",
                                          f"duplicate {name} {value!r} (first at {first[value]})")
                    else:
                        first[value] = field_loc(item, name)
        raw: dict[str, KeySpec] = {}
        for key in self.keys:  # one token per value: the second insert could never succeed
            if key.raw_key is None:
                continue
            if key.raw_key in raw:
                earlier = raw[key.raw_key]
                self.problems.add(field_loc(key, "key").line, f"{key.where}.key",
                                  f"the same value as {earlier.where}.key (at {field_loc(earlier, 'key')})")
            else:
                raw[key.raw_key] = key

    def spec(self, *, defer: bool = False) -> Spec:
        """The spec; with problems, raise InvalidSpec, or with `defer` carry them for the planner to
        report together with the references it finds missing in the database."""
        self.duplicates()
        if not defer:
            self.problems.raise_if_any()
        return Spec(self.source, tuple(self.orgs), tuple(self.teams), tuple(self.users), tuple(self.memberships),
                    tuple(self.keys), tuple(self.problems.problems), tuple(self.references), tuple(self.sealed),
                    self.sealed_users, self.sealed_memberships,
                    frozenset((*self._by_id, *self._by_email, *self._by_sso)) if self.chunk else (),
                    tuple(self.budgets), tuple(self.warnings))


def _folded(email: str) -> str:
    """An email as the duplicate index keys it: lowercased, the same string when it already is
    (not a copy per user of a big spec)."""
    return email if email.islower() else email.lower()


def parse_ref(text: str, roles: Sequence[str],
              problem: Callable[[str], None]) -> tuple[str | None, str | None]:
    """`TEAM` or `TEAM:ROLE` (as --team takes it) -> (target, role or None when not given)."""
    target, _, given = text.strip().rpartition(":") if ":" in text else (text.strip(), "", "")
    target = target.strip()
    role = given.strip() or None
    if not target:
        problem(f"empty id in {text!r}")
        return None, role
    if role is not None and role not in roles:
        problem(f"unknown role {role!r} in {text!r} (expected one of: {', '.join(roles)})")
        return None, role
    return target, role
