"""What a provisioning spec is once read: the organizations, teams, users, keys and memberships an
operator wants, each with where it was written (`file:line` and its field path) for messages.

Membership is normalised: a team's `members_with_roles`, a user's `teams` and an organization's
members all become `Membership` records pointing at one `UserSpec` each; a member that is not in
`users` becomes an implied user (created with LiteLLM's member defaults). `specs` builds these
records from files and flags; the planner reads them.
"""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, NamedTuple

from litellm_dbctl.common.errors import InvalidSpec


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
    on_create: bool = False  # only when this run creates the team, and the user is not named there already


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
class BudgetSpec:
    """A shared budget tier (a LiteLLM_BudgetTable row by budget_id, as /budget/new makes it), which
    keys name by `budget_id`; `fields` holds only the limits the spec names."""

    budget_id: str
    fields: Mapping[str, Any]
    loc: Loc
    where: str
    lines: Mapping[str, int] = field(default_factory=dict)


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
    # Read in chunks (`specs.load(..., chunk=N)`, for validate): the first users, N at a time, packed
    # (`seal`) as they were read; `users` holds the rest, numbered from `sealed_users` on, as
    # memberships number them. `user_refs`: every user_id, SSO id and (lower-cased) email the file
    # declares, what a key's owner may be given by.
    sealed: tuple[bytes, ...] = ()
    sealed_users: int = 0
    sealed_memberships: int = 0
    user_refs: Collection[str] = ()
    budgets: tuple[BudgetSpec, ...] = ()
    warnings: tuple[str, ...] = ()  # sections skipped, one line each (`file:line: section: ...`)

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

    def groups(self) -> Spec:
        """The organizations, teams and keys alone, with the problems found reading the file: what a
        chunked check plans once."""
        return replace(self, users=(), memberships=(), sealed=(), sealed_users=0, sealed_memberships=0)

    def user_chunks(self, size: int) -> Iterator[tuple[Spec, tuple[int, ...]]]:
        """The users `size` at a time (sealed chunks first, in file order), each as a spec of its own
        (the same organizations and teams, no keys or problems) with its users' memberships, and each
        membership's position among the whole spec's (what orders their problems as one run would)."""
        start, position = 0, 0
        for packed in self.sealed:
            users, own = unseal(packed)
            end = start + len(users)
            yield self._chunk(users, start, [*((position + n, m) for n, m in enumerate(own)),
                                             *self._held_memberships(start, end)])
            position += len(own)
            start = end
        for first in range(0, len(self.users), size):
            users = self.users[first:first + size]
            yield self._chunk(users, start + first, self._held_memberships(start + first, start + first + len(users)))

    def _held_memberships(self, low: int, high: int) -> list[tuple[int, Membership]]:
        """The unsealed memberships (a held user's, a roster's) of users low..high-1, with their positions."""
        return [(self.sealed_memberships + n, m) for n, m in enumerate(self.memberships) if low <= m.user < high]

    def _chunk(self, users: Sequence[UserSpec], start: int,
               chosen: Sequence[tuple[int, Membership]]) -> tuple[Spec, tuple[int, ...]]:
        sub = Spec(self.source, self.organizations, self.teams, tuple(users),
                   tuple(m._replace(user=m.user - start) for _, m in chosen))
        return sub, tuple(p for p, _ in chosen)


def seal(users: Sequence[UserSpec], memberships: Sequence[Membership]) -> bytes:
    """Users and their memberships packed (pickled, compressed): a 620,000-user spec's records take
    ~1.3 KB a user as objects, ~60 bytes packed."""
    return zlib.compress(pickle.dumps((tuple(users), tuple(memberships)), pickle.HIGHEST_PROTOCOL), 1)


def unseal(packed: bytes) -> tuple[tuple[UserSpec, ...], tuple[Membership, ...]]:
    users, memberships = pickle.loads(zlib.decompress(packed))  # packed by `seal`, in this process
    return users, memberships
