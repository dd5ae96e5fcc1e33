"""Provisioning specs: the organizations, teams, users and keys an operator wants, validated whole.

A spec comes from a YAML/JSON file (sections `organizations`, `teams`, `users`, `keys`, shaped
like litellm-as-code's spec where they overlap, so its files load unchanged), a users-only file
(YAML/JSON list or CSV) or command-line flags. Every problem is collected with `file:line` and the
field before anything touches the database; `load` raises `InvalidSpec` listing all of them.

YAML is read by `yamldoc`: every value keeps its line, and the block YAML spec files are written in
is read without PyYAML (a 10,000-user file in ~0.1 s).

Membership is normalised here: a team's `members_with_roles`, a user's `teams` and an
organization's members all become `Membership` records pointing at one `UserSpec` each; a member
that is not in `users` becomes an implied user (created with LiteLLM's member defaults).
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from litellm_dbctl.common import durations, yamldoc
from litellm_dbctl.common.errors import InvalidInput, InvalidSpec
from litellm_dbctl.common.yamldoc import LMap, LSeq, plain

USER_ROLES = ("proxy_admin", "proxy_admin_viewer", "internal_user", "internal_user_viewer", "org_admin",
              "team", "customer")  # LiteLLM's LitellmUserRoles
TEAM_ROLES = ("admin", "user")
ORG_ROLES = ("org_admin", "internal_user", "internal_user_viewer")
DEFAULT_ROLE = {"team": "user", "org": "internal_user"}  # what LiteLLM gives a member added without one
SECTIONS = ("organizations", "teams", "users", "keys")
SECTION_ALIASES = {"virtual_keys": "keys"}  # litellm-as-code's name for the keys section
IGNORED_SECTIONS = ("config",)  # litellm-as-code accepts and ignores it; so does dbctl
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MIN_CUSTOM_KEY_LENGTH = 16  # LiteLLM's MINIMUM_CUSTOM_KEY_LENGTH


def read_text(path: str) -> tuple[str, str]:
    """(text, source label) of PATH, or of stdin for `-`."""
    if path == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        return Path(path).read_text(encoding="utf-8"), path
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read: {exc}") from None


# -- normalised spec ---------------------------------------------------------------------------


class Loc(NamedTuple):
    """Where a value was written: file and line (0: the whole file). The records made per user
    (Loc, UserSpec, Membership) are named tuples: immutable as frozen dataclasses, at half
    their construction cost, which counts 10,000 times over."""

    source: str
    line: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


class UserSpec(NamedTuple):
    """A user to exist. `fields` holds only what was named: only those are compared and updated."""

    user_id: str | None
    sso_user_id: str | None
    user_email: str | None
    fields: Mapping[str, Any]
    loc: Loc
    where: str  # its field path (`users[3]`), for messages the planner adds
    implied: bool = False  # only named as a member: created with LiteLLM's member defaults
    lines: Mapping[str, int] = MappingProxyType({})  # each field's line, for messages about one field

    @property
    def label(self) -> str:
        return self.user_id or self.user_email or self.sso_user_id or "?"


class Membership(NamedTuple):
    """User `user` (index into Spec.users) is a member of team/org `target` (an id or alias). The same
    team or organization may be named twice (by id and by alias, in a roster and in a user's list):
    the planner merges them once references are resolved."""

    user: int
    kind: str  # "team" | "org"
    target: str
    role: str | None  # None: keep an existing member's role; a new member gets DEFAULT_ROLE
    max_budget: float | None  # team only: the member's own budget in the team (max_budget_in_team)
    loc: Loc
    where: str  # the reference's field path (`users[0].teams[1]`)


class Reference(NamedTuple):
    """A team or organization named by an entry that has problems of its own (no usable identity, a
    duplicate): still looked up, so that a reference to nothing is listed with the rest."""

    kind: str  # "team" | "org"
    target: str
    loc: Loc
    where: str


def field_loc(record: Any, name: str) -> Loc:
    """Where `record`'s field `name` is written (the record's own line when not known)."""
    return Loc(record.loc.source, record.lines.get(name, record.loc.line))


@dataclass(frozen=True)
class OrgSpec:
    organization_id: str | None
    organization_alias: str | None
    fields: Mapping[str, Any]  # models, metadata; budget fields go to its LiteLLM_BudgetTable row
    loc: Loc
    where: str  # its field path (`organizations[0]`)
    lines: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TeamSpec:
    team_id: str | None
    team_alias: str | None
    fields: Mapping[str, Any]
    member_budget: Mapping[str, Any]  # team_member_budget & co: the team's default member budget
    loc: Loc
    where: str
    lines: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class KeySpec:
    key_alias: str
    raw_key: str | None = field(repr=False)  # write-once: used on create only, never printed
    fields: Mapping[str, Any]
    loc: Loc
    where: str
    lines: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    source: str
    organizations: tuple[OrgSpec, ...] = ()
    teams: tuple[TeamSpec, ...] = ()
    users: tuple[UserSpec, ...] = ()
    memberships: tuple[Membership, ...] = ()
    keys: tuple[KeySpec, ...] = ()
    problems: tuple[tuple[int, str], ...] = ()  # (line, text) found while reading, when deferred
    references: tuple[Reference, ...] = ()  # of entries with problems, checked when deferred

    def check(self) -> None:
        """Raise InvalidSpec listing the problems found while reading, if any."""
        if self.problems:
            raise InvalidSpec([text for _, text in sorted(self.problems, key=lambda p: p[0])], source=self.source)

    def subset(self, user_indexes: Sequence[int], *, with_keys: bool) -> Spec:
        """The same orgs and teams with only these users (and their memberships): one apply chunk."""
        position = {old: new for new, old in enumerate(user_indexes)}
        return replace(
            self,
            users=tuple(self.users[i] for i in user_indexes),
            memberships=tuple(m._replace(user=position[m.user]) for m in self.memberships if m.user in position),
            keys=self.keys if with_keys else (),
        )


# -- field checks ------------------------------------------------------------------------------

Check = Callable[[Any], Any]  # returns the normalised value or raises ValueError(message)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_shown(value)}" +
                         (" (quote it)" if isinstance(value, (int, float, bool)) else ""))
    return value


def _ident(value: Any) -> str:
    text = _str(value).strip()
    if not text:
        raise ValueError("must not be empty")
    return text


def _email(value: Any) -> str:
    text = _str(value).strip()
    if not EMAIL.match(text):
        raise ValueError(f"not an email address: {text!r}")
    return text


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {_shown(value)}")
    if value < 0:
        raise ValueError(f"must not be negative: {value!r}")
    return float(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {_shown(value)}")
    if value < 0:
        raise ValueError(f"must not be negative: {value!r}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_shown(value)}")
    return value


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, LSeq) or not all(isinstance(v, str) for v in value.items):
        raise ValueError(f"expected a list of strings, got {_kind(value)}")
    return list(dict.fromkeys(v.strip() for v in value.items if v.strip()))


def _duration(value: Any) -> str:
    text = _str(value)
    try:
        return durations.validate(text)
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, LMap):
        raise ValueError(f"expected a mapping, got {_kind(value)}")
    return plain(value)


def _choice(options: Sequence[str]) -> Check:
    def check(value: Any) -> str:
        text = _str(value)
        if text not in options:
            raise ValueError(f"unknown role {text!r} (expected one of: {', '.join(options)})")
        return text

    return check


def _shown(value: Any) -> str:
    """A wrong value in a message: its kind, and a scalar's text (a list or mapping is not echoed)."""
    return _kind(value) if isinstance(value, (LMap, LSeq)) or value is None else f"{_kind(value)} {value!r}"


def _kind(value: Any) -> str:
    if isinstance(value, LMap):
        return "a mapping"
    if isinstance(value, LSeq):
        return "a list"
    if value is None:
        return "null"
    return type(value).__name__


BUDGET_FIELDS: dict[str, Check] = {
    "max_budget": _number, "soft_budget": _number, "budget_duration": _duration,
    "tpm_limit": _count, "rpm_limit": _count,
}
USER_FIELDS: dict[str, Check] = {
    "user_alias": _str, "user_role": _choice(USER_ROLES), "max_budget": _number, "budget_duration": _duration,
    "models": _str_list, "tpm_limit": _count, "rpm_limit": _count, "max_parallel_requests": _count,
    "metadata": _object,
}
USER_KEYS = {"user_id", "user_email", "sso_user_id", "teams", "organizations", "organization_id",
             "auto_create_key", *USER_FIELDS}
TEAM_FIELDS: dict[str, Check] = {
    "team_alias": _ident, "organization_id": _ident, "max_budget": _number, "soft_budget": _number,
    "budget_duration": _duration, "models": _str_list, "tpm_limit": _count, "rpm_limit": _count,
    "max_parallel_requests": _count, "blocked": _bool, "metadata": _object, "team_member_permissions": _str_list,
}
TEAM_MEMBER_BUDGET: dict[str, Check] = {  # /team/new's default member budget fields -> budget row columns
    "team_member_budget": _number, "team_member_budget_duration": _duration,
    "team_member_tpm_limit": _count, "team_member_rpm_limit": _count,
}
TEAM_KEYS = {"team_id", "members_with_roles", "members", *TEAM_FIELDS, *TEAM_MEMBER_BUDGET}
ORG_FIELDS: dict[str, Check] = {"organization_alias": _ident, "models": _str_list, "metadata": _object,
                                **BUDGET_FIELDS}
ORG_KEYS = {"organization_id", "members_with_roles", "members", *ORG_FIELDS}
KEY_FIELDS: dict[str, Check] = {
    "user_id": _ident, "team_id": _ident, "models": _str_list, "max_budget": _number,
    "budget_duration": _duration, "tpm_limit": _count, "rpm_limit": _count, "max_parallel_requests": _count,
    "metadata": _object, "blocked": _bool, "allowed_routes": _str_list,
}
KEY_KEYS = {"key_alias", "key", "duration", *KEY_FIELDS}
MEMBER_KEYS = {"user_id", "user_email", "role", "max_budget_in_team"}
USER_TEAM_KEYS = {"team_id", "team", "team_alias", "role", "max_budget_in_team"}
USER_ORG_KEYS = {"organization_id", "organization", "organization_alias", "role"}


class Collector:
    """Problems found while reading a spec, each `file:line: section[i].field: message`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[tuple[int, str]] = []

    def add(self, line: int, where: str, message: str) -> None:
        self.problems.append((line, f"{self.source}:{line}: {where}: {message}" if line
                              else f"{self.source}: {where}: {message}"))

    def raise_if_any(self) -> None:
        if self.problems:
            raise InvalidSpec([text for _, text in sorted(self.problems, key=lambda p: p[0])], source=self.source)

    def check(self, entry: LMap, where: str, checks: Mapping[str, Check], allowed: set[str]) -> dict[str, Any]:
        """The entry's known fields, normalised; unknown keys and bad values become problems."""
        out: dict[str, Any] = {}
        for key, line in entry.duplicates:
            self.add(line, f"{where}.{key}", "given twice")
        for key, value in entry.values.items():
            if key not in allowed:
                self.add(entry.at(key), f"{where}.{key}", f"unknown field (expected one of: {', '.join(sorted(allowed))})")
                continue
            check = checks.get(key)
            if check is None:
                continue
            if value is None:
                out[key] = None
                continue
            try:
                out[key] = check(value)
            except ValueError as exc:
                self.add(entry.at(key), f"{where}.{key}", str(exc))
        return out

    def value(self, entry: LMap, key: str, where: str, check: Check) -> Any:
        value = entry.values.get(key)
        if value is None:
            return None
        try:
            return check(value)
        except ValueError as exc:
            self.add(entry.at(key), f"{where}.{key}", str(exc))
            return None


# -- building a spec ---------------------------------------------------------------------------


class _Builder:
    """Turns located documents into a Spec, merging members into users and collecting problems."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems = Collector(source)
        self.orgs: list[OrgSpec] = []
        self.teams: list[TeamSpec] = []
        self.users: list[UserSpec] = []
        self.keys: list[KeySpec] = []
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
        user_id = p.value(entry, "user_id", where, _ident)
        email = p.value(entry, "user_email", where, _email)
        sso = p.value(entry, "sso_user_id", where, _ident)
        if entry.values.get("auto_create_key") not in (None, False, "false", "False"):
            p.add(entry.at("auto_create_key"), f"{where}.auto_create_key",
                  "dbctl never creates keys implicitly: declare them in the keys section")
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
        user = UserSpec(user_id, sso, email, fields, self.loc(entry.line), where, False, entry.lines)
        if index == len(self.users):
            self.users.append(user)
        else:
            self.users[index] = user
        self._user_memberships(entry, where, index)

    def _claim(self, user_id: str | None, email: str | None, sso: str | None, line: int, where: str) -> int | None:
        """The index for a declared user; a duplicate of another declared user is a problem. A user
        only named as a member so far (implied) becomes this declaration."""
        email_key = email.lower() if email else None
        found = None
        for kind, value, index in (("user_id", user_id, self._by_id), ("user_email", email_key, self._by_email),
                                   ("sso_user_id", sso, self._by_sso)):
            if value is not None and value in index:
                if not self.users[index[value]].implied:
                    first = self.users[index[value]].loc
                    self.problems.add(line, where, f"duplicate {kind} {value!r} (first declared at {first})")
                    return None
                if found is None:
                    found = index[value]
        index = len(self.users) if found is None else found
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
        if isinstance(item, str):
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
            target = p.value(item, given[0], where, _ident)
            role = p.value(item, "role", where, _choice(roles))
            if kind == "team":
                budget = p.value(item, "max_budget_in_team", where, _number)
            if target is None:
                return
        else:
            p.add(line, where, f"expected a {kind} id or a mapping, got {_kind(item)}")
            return
        if user is None:
            self.references.append(Reference(kind, target, self.loc(line), where))
            return
        self.memberships.append(Membership(user, kind, target, role, budget, self.loc(line), where))

    def member_user(self, entry: LMap, where: str) -> int | None:
        """The user a members_with_roles entry names: a declared user, or a new implied one."""
        p = self.problems
        user_id = p.value(entry, "user_id", where, _ident)
        email = p.value(entry, "user_email", where, _email)
        if user_id is None and email is None:
            if "user_id" not in entry.values and "user_email" not in entry.values:
                p.add(entry.line, where, "needs user_id or user_email")
            return None
        for value, index in ((user_id, self._by_id), (email.lower() if email else None, self._by_email)):
            if value is not None and value in index:
                found = index[value]
                if user_id and email:  # both given: they must agree with what is declared
                    known = self.users[found]
                    if (known.user_id and known.user_id != user_id) or \
                            (known.user_email and known.user_email.lower() != email.lower()):
                        p.add(entry.line, where, f"user_id {user_id!r} and user_email {email!r} name different users")
                        return None
                return found
        index = len(self.users)
        fields: dict[str, Any] = {"user_email": email} if email else {}
        self.users.append(UserSpec(user_id, None, email, fields, self.loc(entry.line), where, implied=True))
        if user_id:
            self._by_id[user_id] = index
        if email:
            self._by_email[email.lower()] = index
        return index

    # teams and orgs
    def add_team(self, entry: LMap, where: str) -> None:
        p = self.problems
        fields = p.check(entry, where, TEAM_FIELDS, TEAM_KEYS)
        member_budget = p.check(LMap({k: v for k, v in entry.values.items() if k in TEAM_MEMBER_BUDGET},
                                     entry.lines, entry.line), where, TEAM_MEMBER_BUDGET, set(TEAM_MEMBER_BUDGET))
        team_id = p.value(entry, "team_id", where, _ident)
        alias = fields.get("team_alias")
        if not team_id and not alias:
            p.add(entry.line, where, "needs team_id or team_alias")
            return
        self.teams.append(TeamSpec(team_id, alias, fields, member_budget, self.loc(entry.line), where, entry.lines))
        self._members(entry, where, "team", team_id or alias)  # type: ignore[arg-type]

    def add_org(self, entry: LMap, where: str) -> None:
        p = self.problems
        fields = p.check(entry, where, ORG_FIELDS, ORG_KEYS)
        org_id = p.value(entry, "organization_id", where, _ident)
        alias = fields.get("organization_alias")
        if not org_id and not alias:
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
                p.add(members.lines[n], at, f"expected a mapping with user_id or user_email, got {_kind(item)}")
                continue
            p.check(item, at, {}, MEMBER_KEYS if kind == "team" else MEMBER_KEYS - {"max_budget_in_team"})
            role = p.value(item, "role", at, _choice(roles))
            budget = p.value(item, "max_budget_in_team", at, _number) if kind == "team" else None
            user = self.member_user(item, at)
            if user is not None:
                self.memberships.append(Membership(user, kind, target, role, budget, self.loc(item.line), at))

    # keys
    def add_key(self, entry: LMap, where: str) -> None:
        p = self.problems
        fields = p.check(entry, where, KEY_FIELDS, KEY_KEYS)
        alias = p.value(entry, "key_alias", where, _ident)
        raw = p.value(entry, "key", where, _str)
        if raw is not None and (not raw.startswith("sk-") or len(raw) < MIN_CUSTOM_KEY_LENGTH):
            p.add(entry.at("key"), f"{where}.key",
                  f"a custom key must start with 'sk-' and be at least {MIN_CUSTOM_KEY_LENGTH} characters")
            raw = None
        duration = p.value(entry, "duration", where, _key_duration)
        if duration is not None:
            fields["duration"] = duration
        if alias is None:
            if "key_alias" not in entry.values:
                p.add(entry.line, where, "needs key_alias (the key's identity in a spec)")
            return
        self.keys.append(KeySpec(alias, raw, fields, self.loc(entry.line), where, entry.lines))

    def duplicates(self) -> None:
        """Two entries of one section naming the same object."""
        for section, items, names in (("organizations", self.orgs, ("organization_id", "organization_alias")),
                                      ("teams", self.teams, ("team_id", "team_alias")),
                                      ("keys", self.keys, ("key_alias",))):
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
                first = raw[key.raw_key]
                self.problems.add(field_loc(key, "key").line, f"{key.where}.key",
                                  f"the same value as {first.where}.key (at {field_loc(first, 'key')})")
            else:
                raw[key.raw_key] = key

    def spec(self, *, defer: bool = False) -> Spec:
        """The spec; with problems, raise InvalidSpec, or with `defer` carry them for the planner to
        report together with the references it finds missing in the database."""
        self.duplicates()
        if not defer:
            self.problems.raise_if_any()
        return Spec(self.source, tuple(self.orgs), tuple(self.teams), tuple(self.users), tuple(self.memberships),
                    tuple(self.keys), tuple(self.problems.problems), tuple(self.references))


def _key_duration(value: Any) -> str:
    """A key's lifetime (`duration`): LiteLLM's duration_in_seconds grammar."""
    text = _str(value)
    try:
        if durations.duration_seconds(text) <= 0:
            raise ValueError(f"invalid duration {text!r}: must be longer than zero")
    except InvalidInput as exc:
        raise ValueError(exc.message) from None
    return text.strip()


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


# -- entry points ------------------------------------------------------------------------------


def load(path: str, *, defer: bool = False) -> Spec:
    """A full spec file (`-` for stdin): sections organizations, teams, users, keys."""
    text, source = read_text(path)
    return from_text(text, source, defer=defer)


def from_text(text: str, source: str, *, defer: bool = False) -> Spec:
    document = yamldoc.parse(text, source)
    builder = _Builder(source)
    p = builder.problems
    if document is None:
        return builder.spec(defer=defer)
    if not isinstance(document, LMap):
        p.add(getattr(document, "line", 1), "spec", "expected a mapping with sections " + ", ".join(SECTIONS))
        p.raise_if_any()
    for key, _ in document.duplicates:
        p.add(document.at(key), key, "section given twice")
    sections: dict[str, Any] = {}
    for key, value in document.values.items():
        name = SECTION_ALIASES.get(key, key)
        if key in IGNORED_SECTIONS:
            continue
        if name not in SECTIONS:
            p.add(document.at(key), key, f"unknown section (expected: {', '.join(SECTIONS)})")
            continue
        if name in sections:
            p.add(document.at(key), key, f"section given twice (as {key!r})")
            continue
        sections[name] = (key, value)
    adders = {"organizations": builder.add_org, "teams": builder.add_team, "users": builder.add_user,
              "keys": builder.add_key}
    # users first, so team and org members find the users declared in the file
    for name in ("users", "organizations", "teams", "keys"):
        if name not in sections:
            continue
        key, value = sections[name]
        if value is None:
            continue
        if not isinstance(value, LSeq):
            p.add(document.at(key), key, f"expected a list, got {_kind(value)}")
            continue
        for n, item in enumerate(value.items):
            where = f"{key}[{n}]"
            if not isinstance(item, LMap):
                p.add(value.lines[n], where, f"expected a mapping, got {_kind(item)}")
                continue
            adders[name](item, where)
    return builder.spec(defer=defer)


def load_users(path: str, *, fmt: str | None = None, defer: bool = False) -> Spec:
    """A users file for `user provision --file`: YAML/JSON (a list, or a mapping with `users`) or CSV."""
    text, source = read_text(path)
    kind = fmt or ("csv" if source.lower().endswith(".csv") else "yaml")
    if kind == "csv":
        return users_from_csv(text, source, defer=defer)
    document = yamldoc.parse(text, source)
    if isinstance(document, LMap):
        extra = [k for k in document.values if k != "users"]
        if extra:
            raise InvalidInput(f"{source}:{document.at(extra[0])}: {extra[0]}: a users file holds only `users`; "
                               "use `dbctl provision apply` for a full spec")
        return from_text(text, source, defer=defer)
    builder = _Builder(source)
    if document is None:
        return builder.spec(defer=defer)
    if not isinstance(document, LSeq):
        builder.problems.add(1, "users", "expected a list of users (CSV: a .csv file name, or --format csv)")
        return builder.spec(defer=defer)
    for n, item in enumerate(document.items):
        if not isinstance(item, LMap):
            builder.problems.add(document.lines[n], f"users[{n}]", f"expected a mapping, got {_kind(item)}")
            continue
        builder.add_user(item, f"users[{n}]")
    return builder.spec(defer=defer)


CSV_LISTS = {"models", "teams", "organizations"}


def users_from_csv(text: str, source: str, *, defer: bool = False) -> Spec:
    """CSV with a header row naming user fields; lists (models, teams, organizations) are `;`-separated,
    a team may carry a role as `team-a:admin`."""
    builder = _Builder(source)
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        return builder.spec()
    for name in reader.fieldnames:
        if name not in USER_KEYS:
            builder.problems.add(1, name, f"unknown column (expected some of: {', '.join(sorted(USER_KEYS))})")
    builder.problems.raise_if_any()
    line = 1
    for n, row in enumerate(reader):
        line = reader.line_num
        values: dict[str, Any] = {}
        for key, cell in row.items():
            if key is None:
                builder.problems.add(line, f"users[{n}]", "more cells than header columns")
                continue
            cell = (cell or "").strip()
            if cell == "":
                continue
            values[key] = _csv_value(key, cell, line)
        builder.add_user(LMap(values, dict.fromkeys(values, line), line), f"users[{n}]")
    return builder.spec(defer=defer)


def _csv_value(key: str, cell: str, line: int) -> Any:
    if key in CSV_LISTS:
        parts = [part.strip() for part in cell.split(";") if part.strip()]
        return LSeq(parts, [line] * len(parts), line)
    if key == "metadata":
        import json

        try:
            return _to_located(json.loads(cell), line)
        except ValueError:
            return cell
    checks = {**USER_FIELDS}
    check = checks.get(key)
    if check in (_number, _count):
        try:
            number = float(cell)
            return int(number) if check is _count and number.is_integer() else number
        except ValueError:
            return cell
    if key == "auto_create_key":
        return cell.lower() == "true"
    return cell


def _to_located(value: Any, line: int = 0) -> Any:
    if isinstance(value, dict):
        return LMap({k: _to_located(v, line) for k, v in value.items()}, {}, line)
    if isinstance(value, list):
        return LSeq([_to_located(v, line) for v in value], [line] * len(value), line)
    return value


def from_records(records: Iterable[tuple[str, Mapping[str, Any]]], source: str) -> Spec:
    """A spec from plain mappings (command-line flags): [(section, mapping), ...]."""
    builder = _Builder(source)
    adders = {"organizations": builder.add_org, "teams": builder.add_team, "users": builder.add_user,
              "keys": builder.add_key}
    counts: dict[str, int] = {}
    ordered = sorted(records, key=lambda r: ("users", "organizations", "teams", "keys").index(r[0]))
    for section, mapping in ordered:
        n = counts.get(section, 0)
        counts[section] = n + 1
        adders[section](_to_located(dict(mapping)), f"{section}[{n}]" if source != "flags" else section)
    return builder.spec()


def check_role(role: str | None, roles: Sequence[str]) -> None:
    """InvalidInput naming the valid roles when a --role is none of them (an unknown role would
    otherwise match nothing, or be written)."""
    if role is not None and role not in roles:
        raise InvalidInput(f"--role: unknown role {role!r} (expected one of: {', '.join(roles)})")


def one_membership(kind: str, group: str, user: str, role: str | None, max_budget: float | None = None) -> Spec:
    """USER (a user_id, or an email when it holds @) joins team/org GROUP (id or alias) with ROLE:
    a missing user is created with LiteLLM's member defaults; a missing team or org is an error."""
    check_role(role, TEAM_ROLES if kind == "team" else ORG_ROLES)
    email = user.strip() if "@" in user else None
    if email is not None and not EMAIL.match(email):
        raise InvalidInput(f"not an email address: {email!r}")
    loc = Loc("flags", 0)
    person = UserSpec(None if email else user.strip(), None, email, {"user_email": email} if email else {}, loc,
                      "USER", implied=True)
    return Spec("flags", users=(person,),
                memberships=(Membership(0, kind, group, role, max_budget, loc, kind.upper()),))
