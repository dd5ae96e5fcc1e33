"""Reference resolution, a pure function of the snapshot, the spec and the proxy's settings.

Every spec organization, team and user gets the id it has in the database (found as LiteLLM finds
it: `lookup`) or a new one; every membership's team or organization reference (an id or alias, in
the file or the database) gets its id, and memberships naming one target twice become one. What
cannot be resolved is a problem (`file:line: field: message`), listed with the spec's own: an
ambiguous alias or email, an alias or email another object keeps, a reference to nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litellm_dbctl.common import identities, keyrefs, uuids
from litellm_dbctl.common.errors import InvalidSpec
from litellm_dbctl.provision import lookup, team_keys, tokens
from litellm_dbctl.provision.proxy_settings import ProxySettings
from litellm_dbctl.provision.snapshot import Snapshot
from litellm_dbctl.provision.spec_records import KeySpec, Loc, Membership, Spec, UserSpec, field_loc

Row = Mapping[str, Any]
Problems = list[tuple[int, str]]
PROXY_SETTINGS = "proxy settings"  # where a default membership comes from: the source of its messages
DEFAULT_TEAMS = "litellm_settings.default_internal_user_params.teams"  # ... and its field path
DEFAULT_ORG = "default_team_params.organization_id"  # the organization a created team joins unless it names one
# The steps that find problems, in the order they are listed (then by line). Those of USER_STEPS look
# at users and their memberships: a chunked check runs them chunk by chunk, the others once.
STEPS = ("spec", "orgs", "teams", "users", "emails", "team_orgs", "references", "default_org", "memberships",
         "keys", "team_keys", "new_orgs")
USER_STEPS = ("users", "emails", "memberships")
EmailMove = tuple[UserSpec, Row, tuple[Row, ...]]  # a user found by id or sso given an email others have


@dataclass(frozen=True)
class Names:
    """How a reference to a team or organization (an id or alias) finds its id: an id in the file,
    an id in the database, an alias in the file, an alias exactly one database row has."""

    spec_ids: Mapping[str, str]  # id given in the file -> the id it resolved to
    spec_aliases: Mapping[str, str]  # alias given in the file -> the id its entry resolved to
    groups: lookup.Groups
    known: tuple[str, ...] = ()  # every name in the database, when a reference names none

    def find(self, ref: str) -> str | None:
        if ref in self.spec_ids:
            return self.spec_ids[ref]
        if ref in self.groups.by_id:
            return ref
        if ref in self.spec_aliases:
            return self.spec_aliases[ref]
        row = self.groups.find(ref)
        return row[self.groups.id_name] if row is not None else None

    def missing(self, ref: str) -> str:
        """Why a reference does not resolve: absent, or an alias several database rows have."""
        rows = self.groups.by_alias.get(ref, ())
        what = self.groups.what
        if len(rows) > 1:
            return f"alias {ref!r} matches {len(rows)} {what}s in the database ({self.groups.ids(rows)}); use the id"
        close = identities.closest(ref, (*self.spec_ids, *self.spec_aliases, *self.known))
        return f"{what} {ref!r} exists neither in the file nor in the database" + (
            f" (closest: {', '.join(map(repr, close))})" if close else "")


@dataclass(frozen=True)
class Resolution:
    """The ids the spec's entries resolved to (in spec order), and the memberships to plan."""

    org_ids: tuple[str, ...]
    team_ids: tuple[str, ...]
    user_ids: tuple[str, ...]
    orgs: Names
    teams: Names
    targets: Mapping[tuple[str, str], str | None]  # (kind, reference) -> the id it names
    memberships: tuple[Membership, ...]  # one per (kind, target, user), default teams included
    problems: tuple[tuple[int, str], ...]
    steps: Mapping[str, tuple[tuple[int, str], ...]] = field(default_factory=dict)  # the problems by step
    # of each `memberships` problem, the membership it is about: its index in spec.memberships (past
    # them: the default memberships, as made for the spec's users in order)
    membership_at: tuple[int, ...] = ()
    # each key's `user_id` as the spec gives it (a user_id, SSO id or email) -> the user_id it names
    key_owners: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Shared:
    """What the user chunks of one spec share, so that each cross-user check sees every user: the
    existing users entries name, what email they are given, the email moves to check once all are
    read, and every user_id, SSO id and lower-cased email the spec declares (what names a key's owner)."""

    user_refs: Collection[str] = ()
    claimed: dict[str, int] = field(default_factory=dict)  # existing user_id -> the line of the entry naming it last
    declared: dict[str, str] = field(default_factory=dict)  # existing user_id -> the other email the spec gives it
    moves: list[EmailMove] = field(default_factory=list)


def resolve(snapshot: Snapshot, spec: Spec, settings: ProxySettings, shared: Shared | None = None) -> Resolution:
    """The spec resolved against the snapshot. With `shared` (one chunk of a spec's users), the email
    moves are left in it for `email_clashes` once every chunk is resolved, and keys are checked
    against its user_ids."""
    found: dict[str, Problems] = {step: [] for step in STEPS}
    found["spec"].extend(spec.problems)
    org_ids = _group_ids(spec.organizations, "organization_id", "organization_alias", snapshot.orgs, found["orgs"])
    orgs = Names({o.organization_id: o.organization_id for o in spec.organizations if o.organization_id},
                 {o.organization_alias: i for o, i in zip(spec.organizations, org_ids) if o.organization_alias},
                 snapshot.orgs, snapshot.names.get("org", ()))
    team_ids = _group_ids(spec.teams, "team_id", "team_alias", snapshot.teams, found["teams"])
    teams = Names({t.team_id: t.team_id for t in spec.teams if t.team_id},
                  {t.team_alias: i for t, i in zip(spec.teams, team_ids) if t.team_alias}, snapshot.teams,
                  snapshot.names.get("team", ()))
    across = shared if shared is not None else Shared()
    user_ids = _user_ids(spec.users, snapshot.users, found["users"], across)
    if shared is None:
        email_clashes(across, found["emails"])

    for team in spec.teams:  # organization references
        ref = team.fields.get("organization_id")
        if ref and orgs.find(ref) is None:
            _problem(found["team_orgs"], field_loc(team, "organization_id"), f"{team.where}.organization_id",
                     orgs.missing(ref))
    for reference in spec.references:  # of entries with problems of their own
        names = teams if reference.kind == "team" else orgs
        if names.find(reference.target) is None:
            _problem(found["references"], reference.loc, reference.where, names.missing(reference.target))
    _default_org(spec, settings, orgs, team_ids, snapshot, found["default_org"])
    memberships = _on_create([*spec.memberships, *_default_memberships(spec, settings, user_ids, snapshot)],
                             teams, snapshot)
    targets = {(kind, target): (teams if kind == "team" else orgs).find(target)
               for kind, target in {(m.kind, m.target) for m in memberships}}
    membership_at: list[int] = []
    distinct = _distinct(memberships, targets, spec.users, teams, orgs, found["memberships"], membership_at)
    key_owners = _key_owners(spec, snapshot, user_ids, () if shared is None else shared.user_refs, found["keys"])
    _check_keys(spec, snapshot, teams, found["keys"])
    _check_team_keys(spec, snapshot, teams, {team_id: team.fields for team, team_id in zip(spec.teams, team_ids)},
                     found["team_keys"])
    for org, org_id in zip(spec.organizations, org_ids):
        if org_id not in snapshot.orgs.by_id and not org.organization_alias:
            _problem(found["new_orgs"], org.loc, org.where, "organization_alias is required to create it")
    return Resolution(tuple(org_ids), tuple(team_ids), tuple(user_ids), orgs, teams, targets, tuple(distinct),
                      tuple(p for step in STEPS for p in found[step]),
                      {step: tuple(problems) for step, problems in found.items()}, tuple(membership_at), key_owners)


def _problem(problems: Problems, loc: Loc, where: str, message: str) -> None:
    problems.append((loc.line, f"{loc}: {where}: {message}"))


def _group_ids(items: Sequence[Any], id_name: str, alias_name: str, groups: lookup.Groups,
               problems: Problems) -> list[str]:
    """Each entry's id: the one it gives, else the one row with its alias, else a new one. An alias
    several rows have, or one another existing row keeps, is a problem."""
    ids = []
    for item in items:
        given_id, alias = getattr(item, id_name), getattr(item, alias_name)
        if given_id:
            ids.append(given_id)
            continue
        rows = groups.by_alias.get(alias or "", ())
        if len(rows) > 1:
            _problem(problems, field_loc(item, alias_name), f"{item.where}.{alias_name}",
                     f"alias {alias!r} matches {len(rows)} rows in the database ({groups.ids(rows)}); give {id_name}")
        ids.append(rows[0][id_name] if rows else uuids.v4())
    _alias_clashes(items, ids, id_name, alias_name, groups, problems)
    return ids


def _alias_clashes(items: Sequence[Any], ids: Sequence[str], id_name: str, alias_name: str, groups: lookup.Groups,
                   problems: Problems) -> None:
    """A declared alias another existing team (organization) keeps: a lookup by that alias, in
    LiteLLM or dbctl, would then match two. An entry without an id is found by its alias instead."""
    declared = {own: getattr(item, alias_name) for item, own in zip(items, ids) if getattr(item, alias_name)}
    for item, own in zip(items, ids):
        alias = getattr(item, alias_name)
        if not alias or not getattr(item, id_name):
            continue
        others = sorted(r[id_name] for r in groups.by_alias.get(alias, ())
                        if r[id_name] != own and declared.get(r[id_name], alias) == alias)
        if others:
            _problem(problems, field_loc(item, alias_name), f"{item.where}.{alias_name}",
                     f"alias {alias!r} is already used by {groups.what} {', '.join(map(repr, others))}")


def _user_ids(users: Sequence[UserSpec], known: lookup.Users, problems: Problems, shared: Shared) -> list[str]:
    """Each spec user's user_id: the existing user's it names, else its own, else a new one."""
    ids: list[str] = []
    claimed, declared, moves = shared.claimed, shared.declared, shared.moves
    for user in users:
        row = _match_user(user, known, problems)
        if row is None:
            ids.append(user.user_id or uuids.v4())
            continue
        if row["user_id"] in claimed:
            _problem(problems, user.loc, user.where, f"names the same existing user {row['user_id']!r} as the "
                                                     f"entry at {user.loc._replace(line=claimed[row['user_id']])}")
        claimed[row["user_id"]] = user.loc.line
        other = known.by_sso.get(user.sso_user_id) if user.sso_user_id else None
        if other is not None and other["user_id"] != row["user_id"]:
            _problem(problems, field_loc(user, "sso_user_id"), f"{user.where}.sso_user_id",
                     f"{user.sso_user_id!r} already belongs to user {other['user_id']!r}")
        email = user.user_email
        if email and not user.implied and email.lower() != (row["user_email"] or "").lower():
            declared[row["user_id"]] = email.lower()  # (an email kept is the row's: `email_clashes` knows it)
        if email and email != row["user_email"] and not user.implied:  # found by id or sso: a new email?
            holders = known.by_email.get(email.lower())
            if holders and (len(holders) > 1 or holders[0] is not row):
                moves.append((user, row, holders))
        ids.append(row["user_id"])
    return ids


def _match_user(user: UserSpec, known: lookup.Users, problems: Problems) -> Row | None:
    """The existing user a spec user names (LiteLLM's order: user_id, sso_user_id, email), or None;
    names that point at different users are a problem."""
    try:
        found = known.match(user.user_id, user.sso_user_id, user.user_email)
    except lookup.Ambiguous as exc:
        ids = ", ".join(sorted(r["user_id"] for r in exc.rows))
        _problem(problems, field_loc(user, "user_email"), f"{user.where}.user_email",
                 f"email {user.user_email!r} matches {len(exc.rows)} users in the database: {ids}")
        return None
    if found is None:
        return None
    row, how = found
    if how == "user_id":
        return row
    if how == "user_email" and user.sso_user_id and row["sso_user_id"] not in (None, user.sso_user_id):
        _problem(problems, field_loc(user, "sso_user_id"), f"{user.where}.sso_user_id",
                 f"user {row['user_id']!r}, found by its email, is linked to sso_user_id {row['sso_user_id']!r}; "
                 "give its user_id to link it to another identity")
        return None
    if user.user_id and row["user_id"] != user.user_id:
        _problem(problems, field_loc(user, how), f"{user.where}.{how}",
                 f"{getattr(user, how)!r} belongs to existing user {row['user_id']!r}; give that user_id or "
                 "leave user_id out")
        return None
    return row


def email_clashes(shared: Shared, problems: Problems) -> None:
    """An existing user given an email another user has: LiteLLM's and dbctl's lookups by email would
    then match two. (Users sharing an email already are left as they are; a user the spec moves to
    another email no longer counts.) Only existing users hold an email already: the spec gives each
    its own email, or the other one in `shared.declared`."""
    declared = shared.declared
    for user, row, holders in shared.moves:
        email = (user.user_email or "").lower()
        if (row["user_email"] or "").lower() == email:
            continue
        others = sorted(r["user_id"] for r in holders
                        if r["user_id"] != row["user_id"] and declared.get(r["user_id"], email) == email)
        if others:
            _problem(problems, field_loc(user, "user_email"), f"{user.where}.user_email",
                     f"{user.user_email!r} is already the email of user {', '.join(map(repr, others))}")


def _default_org(spec: Spec, settings: ProxySettings, orgs: Names, team_ids: Sequence[str], snapshot: Snapshot,
                 problems: Problems) -> None:
    """default_team_params.organization_id, when a team the spec creates names no organization, must
    be the id of an organization in the file or the database: /team/new rejects any other, and the
    proxy reads an id there, never an alias."""
    org_id = settings.team_params.get("organization_id")
    if not org_id or org_id in orgs.spec_ids or org_id in snapshot.orgs.by_id:
        return
    if all(team_id in snapshot.teams.by_id or "organization_id" in team.fields
           for team, team_id in zip(spec.teams, team_ids)):
        return
    why = f"organization_id {org_id!r} exists neither in the file nor in the database"
    alias_of = orgs.find(org_id)
    if alias_of:
        why += f" ({org_id!r} is the alias of {alias_of!r}: give its organization_id)"
    where = settings.at.get(DEFAULT_ORG, PROXY_SETTINGS)
    problems.append((0, f"{where}: litellm_settings.{DEFAULT_ORG}: {why}"))


def _default_memberships(spec: Spec, settings: ProxySettings, user_ids: Sequence[str],
                         snapshot: Snapshot) -> list[Membership]:
    """The proxy's default teams (default_internal_user_params.teams) for each user the spec
    creates without naming a team, as /user/new adds them."""
    defaults = settings.user_teams
    if not defaults:
        return []
    named = {m.user for m in spec.memberships if m.kind == "team"}
    loc = Loc(PROXY_SETTINGS, 0)
    teams = [(team, f"{DEFAULT_TEAMS}[{n}]") for n, team in enumerate(defaults)]
    return [Membership(index, "team", team.team_id, team.role, team.max_budget_in_team, loc, where)
            for index, (user, user_id) in enumerate(zip(spec.users, user_ids))
            if not user.implied and index not in named and user_id not in snapshot.users.by_id
            for team, where in teams]


def _on_create(memberships: Sequence[Membership], teams: Names, snapshot: Snapshot) -> list[Membership]:
    """The memberships, those only for a team this run creates (add_proxy_admin) last and only where
    the team is not in the database, as /team/new adds its caller after the members it was given."""
    return [*(m for m in memberships if not m.on_create),
            *(m for m in memberships if m.on_create and teams.find(m.target) not in snapshot.teams.by_id)]


def _distinct(memberships: Sequence[Membership], targets: Mapping[tuple[str, str], str | None],
              users: Sequence[UserSpec], teams: Names, orgs: Names, problems: Problems,
              problem_at: list[int]) -> list[Membership]:
    """One membership per (kind, resolved target, user): a team or organization named twice for a
    user (by id and by alias, in a roster and in the user's own list) is one row. Roles and member
    budgets given in both places must agree; one given in one place only is kept."""
    first: dict[tuple[str, str, int], int] = {}
    out: list[Membership] = []
    seen_at, append = first.setdefault, out.append  # the loop runs once per membership: 10,000s of times
    for number, m in enumerate(memberships):
        kind = m.kind
        target = targets[kind, m.target]
        if target is None:
            _problem(problems, m.loc, m.where, (teams if kind == "team" else orgs).missing(m.target))
            problem_at.append(number)
            continue
        count = len(out)
        at = seen_at((kind, target, m.user), count)
        if at == count:
            append(m)
            continue
        if m.on_create:  # the user is named in the team already: its role stands, as /team/new keeps it
            continue
        seen = out[at]
        roles_clash = None not in (seen.role, m.role) and seen.role != m.role
        budgets_clash = None not in (seen.max_budget, m.max_budget) and seen.max_budget != m.max_budget
        if roles_clash or budgets_clash:  # told at the later of the two, naming the earlier
            earlier, later = (seen, m) if seen.loc.line <= m.loc.line else (m, seen)
            what = "team" if m.kind == "team" else "organization"
            named = repr(later.target) + (f" ({target})" if target != later.target else "")
            _problem(problems, later.loc, later.where,
                     f"{users[m.user].label} is already a member of {what} {named} with "
                     f"{'role ' + repr(earlier.role) if roles_clash else 'another budget'} (at {earlier.loc})")
            problem_at.append(number)
            continue
        out[at] = seen._replace(role=seen.role or m.role,
                                max_budget=seen.max_budget if seen.max_budget is not None else m.max_budget)
    return out


def user_refs(users: Sequence[UserSpec]) -> frozenset[str]:
    """What names each of `users`: its user_id, SSO id and lower-cased email."""
    return frozenset(name for u in users
                     for name in (u.user_id, u.sso_user_id, u.user_email.lower() if u.user_email else None) if name)


def _key_owners(spec: Spec, snapshot: Snapshot, user_ids: Sequence[str], declared: Collection[str],
                problems: Problems) -> dict[str, str]:
    """Each key's owner reference -> the user_id it names. A user is given as everywhere (`key create
    --user`, memberships): by user_id, else SSO id, else email (case-insensitive), each looked up in
    the spec's users and then the database's. `declared`: what names the users of a spec read in
    chunks, whose other chunks are not in `spec` (the reference stands for the id then: checking only)."""
    tiers: tuple[dict[str, str], dict[str, str], dict[str, str]] = ({}, {}, {})
    for user, user_id in zip(spec.users, user_ids):
        for tier, name in zip(tiers, (user.user_id, user.sso_user_id, (user.user_email or "").lower())):
            if name:
                tier.setdefault(name, user_id)
    owners: dict[str, str] = {}
    for key in spec.keys:
        ref = key.fields.get("user_id")
        if not ref or ref in owners:
            continue
        try:
            found = _owner(ref, tiers, snapshot.users)
        except lookup.Ambiguous as exc:
            ids = ", ".join(sorted(r["user_id"] for r in exc.rows))
            _problem(problems, field_loc(key, "user_id"), f"{key.where}.user_id",
                     f"email {ref!r} matches {len(exc.rows)} users in the database: {ids}; give the user_id")
            continue
        if found is None and (ref in declared or ref.lower() in declared):
            found = ref
        if found is None:
            _problem(problems, field_loc(key, "user_id"), f"{key.where}.user_id",
                     f"user {ref!r} exists neither in the file nor in the database")
            continue
        owners[ref] = found
    return owners


def _owner(ref: str, tiers: tuple[dict[str, str], ...], known: lookup.Users) -> str | None:
    """The user_id `ref` names: by user_id, SSO id, then email, at each step the spec's users first."""
    for number, in_spec in enumerate(tiers):
        name = ref.lower() if number == 2 else ref
        if name in in_spec:
            return in_spec[name]
        match = known.match(*(ref if n == number else None for n in range(3)))
        if match is not None:
            return str(match[0]["user_id"])
    return None


def _check_keys(spec: Spec, snapshot: Snapshot, teams: Names, problems: Problems) -> None:
    """A key's chosen value some key already has, and teams that exist nowhere."""
    for key in spec.keys:
        holder = snapshot.taken_tokens.get(keyrefs.hash_key(key.raw_key)) if key.raw_key else None
        if holder is not None and key.key_alias not in snapshot.keys:  # an existing alias is never re-keyed
            _problem(problems, field_loc(key, "key"), f"{key.where}.key", tokens.value_taken(holder))
        team_ref = key.fields.get("team_id")
        if team_ref and teams.find(team_ref) is None:
            _problem(problems, field_loc(key, "team_id"), f"{key.where}.team_id", teams.missing(team_ref))


def _check_team_keys(spec: Spec, snapshot: Snapshot, teams: Names, declared: Mapping[str, Mapping[str, Any]],
                     problems: Problems) -> None:
    """Each team key within its team's models and limits (`team_keys`), the team and its keys as this
    spec leaves them. A key's declared limits are checked; all of them when it is created or moves to
    another team."""
    finals: list[tuple[KeySpec, Mapping[str, Any], str | None, dict[str, Any]]] = []
    for key in spec.keys:  # each key as the spec leaves it: its row, its team, its values
        rows = snapshot.keys.get(key.key_alias, ())
        row: Mapping[str, Any] = rows[0] if len(rows) == 1 else {}
        team_ref = key.fields.get("team_id")
        finals.append((key, row, teams.find(team_ref) if team_ref else row.get("team_id"), {**row, **key.fields}))
    respecified = {row["token"] for _, row, _, _ in finals if row}
    for number, (key, row, team_id, values) in enumerate(finals):
        if team_id is None:
            continue
        team = {**(snapshot.teams.by_id.get(team_id) or {"team_id": team_id}), **declared.get(team_id, {})}
        moved = not row or team_id != row.get("team_id")
        found = team_keys.problems(values, team, [f for f in team_keys.GUARDED if moved or f in key.fields])
        if moved or any(key.fields.get(f) != row.get(f) for f in ("tpm_limit", "rpm_limit", "metadata")
                        if f in key.fields):
            others = [*(r for r in snapshot.team_keys.get(team_id, ()) if r["token"] not in respecified),
                      *(other for n, (_, _, t, other) in enumerate(finals) if n != number and t == team_id)]
            found += team_keys.allocation_problems(values, others, team)
        for name, why in found:
            _problem(problems, field_loc(key, name if name in key.fields else "team_id"), f"{key.where}.{name}", why)


def raise_problems(problems: Sequence[tuple[int, str]], source: str) -> None:
    """InvalidSpec listing the problems by line, each once (a missing default team is found once per
    user it would join)."""
    if problems:
        raise InvalidSpec(list(dict.fromkeys(text for _, text in sorted(problems, key=lambda p: p[0]))),
                          source=source)
