"""The read step of planning: the rows a spec may touch, read in bulk (one query per table,
`= ANY(...)`) into a frozen Snapshot that the pure steps (resolve, diff) work on.

What is read: the organizations, teams and users the spec names by any of their names, the keys it
names by alias and the keys already holding a chosen raw key's token; the memberships of those users
in those teams and organizations; and the budget rows behind organizations, teams' default member
budgets and member budgets, attached to the rows that point at them (an organization's budget as
its own columns, a team's default member budget as `member_*` columns, a membership's as its own).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import keyrefs
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.provision import extras, lookup, team_keys
from litellm_dbctl.provision.plan import BUDGET_COLUMNS
from litellm_dbctl.provision.proxy_settings import ProxySettings
from litellm_dbctl.provision.spec_records import Spec

if TYPE_CHECKING:
    import psycopg

Row = Mapping[str, Any]
NO_BUDGET = dict.fromkeys((*BUDGET_COLUMNS, "budget_seen"))
NO_MEMBER_BUDGET = {"member_" + k: v for k, v in NO_BUDGET.items()} | {"member_budget_id": None}


@dataclass(frozen=True)
class Snapshot:
    """The database as the plan reads it. Build one with `Snapshot.of` (rows as the read queries
    return them), or `read` it."""

    orgs: lookup.Groups = field(default_factory=lambda: lookup.Groups("org"))
    teams: lookup.Groups = field(default_factory=lambda: lookup.Groups("team"))
    users: lookup.Users = field(default_factory=lookup.Users)
    keys: Mapping[str, tuple[Row, ...]] = field(default_factory=dict)  # by key_alias
    taken_tokens: Mapping[str, Row] = field(default_factory=dict)  # token -> the key holding it
    team_members: Mapping[tuple[str, str], Row] = field(default_factory=dict)  # (user_id, team_id) -> membership
    org_members: Mapping[tuple[str, str], Row] = field(default_factory=dict)  # (user_id, organization_id) -> membership
    team_keys: Mapping[str, tuple[Row, ...]] = field(default_factory=dict)  # team_id -> its keys' limits (team_keys)
    # kind (team, org) -> every name in the database, read only when a reference to one names none:
    # the closest names its message offers
    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    refs: Mapping[str, frozenset[str]] = field(default_factory=dict)  # kind -> the names its rows were read for
    rosters: extras.Rosters | None = None  # --exact-members: every membership of the spec's teams and orgs
    managed: extras.Managed | None = None  # --prune: the objects a spec created
    tiers: Mapping[str, Row] = field(default_factory=dict)  # budget_id -> a budget tier the spec declares or names

    @classmethod
    def of(cls, *, orgs: Sequence[Row] = (), teams: Sequence[Row] = (), users: Sequence[Row] = (),
           keys: Sequence[Row] = (), taken_tokens: Sequence[Row] = (), team_members: Sequence[Row] = (),
           org_members: Sequence[Row] = (), budgets: Sequence[Row] = (), team_keys: Sequence[Row] = (),
           names: Mapping[str, tuple[str, ...]] | None = None) -> Snapshot:
        """A snapshot of these rows, each budget row attached to the rows that point at it."""
        by_id = {b["budget_id"]: b for b in budgets}
        return cls(
            lookup.Groups.of("org", [_with_budget(r, by_id.get(r.get("budget_id"))) for r in orgs]),
            lookup.Groups.of("team", [_with_member_budget(r, by_id) for r in teams]),
            lookup.Users.of(users),
            lookup.grouped(keys, "key_alias"),
            {r["token"]: r for r in taken_tokens},
            {(r["user_id"], r["team_id"]): _with_budget(r, by_id.get(r.get("budget_id"))) for r in team_members},
            {(r["user_id"], r["organization_id"]): r for r in org_members},
            lookup.grouped(team_keys, "team_id"),
            dict(names or {}),
        )


def _with_budget(row: Row, budget: Row | None) -> dict[str, Any]:
    if budget is None:
        return {**row, **NO_BUDGET}
    return {**row, **{column: budget[column] for column in BUDGET_COLUMNS}, "budget_seen": budget["seen"]}


def _with_member_budget(team: Row, budgets: Mapping[str, Row]) -> dict[str, Any]:
    budget_id = (team.get("metadata") or {}).get("team_member_budget_id")
    budget = budgets.get(budget_id) if isinstance(budget_id, str) else None
    if budget is None:
        return {**team, **NO_MEMBER_BUDGET}
    return {**team, **{"member_" + column: budget[column] for column in BUDGET_COLUMNS},
            "member_budget_seen": budget["seen"], "member_budget_id": budget_id}


def read(conn: psycopg.Connection, spec: Spec, settings: ProxySettings, known: Snapshot | None = None, *,
         exact: bool = False, prune: bool = False) -> Snapshot:
    """The rows `spec` may touch, with the proxy's defaults (`settings`: default teams and
    organization) among what it names. The organizations and teams `known` was read for are taken
    from it, not read again (a chunked check: a team's big roster is read once). With `exact`, every
    membership of the spec's teams and organizations (extras.Rosters); with `prune`, the objects a
    spec created (extras.Managed)."""
    org_refs = {r for o in spec.organizations for r in (o.organization_id, o.organization_alias) if r}
    org_members = {m.target for m in spec.memberships if m.kind == "org"}
    org_refs |= org_members | {m.target for m in spec.references if m.kind == "org"}
    org_refs |= {t.fields["organization_id"] for t in spec.teams if t.fields.get("organization_id")}
    if spec.teams and settings.team_params.get("organization_id"):
        org_refs.add(settings.team_params["organization_id"])
    team_refs = {r for t in spec.teams for r in (t.team_id, t.team_alias) if r}
    team_members = {m.target for m in spec.memberships if m.kind == "team"}
    team_members |= {t.team_id for t in settings.user_teams} if spec.users else set()
    team_refs |= team_members | {m.target for m in spec.references if m.kind == "team"}
    team_refs |= {k.fields["team_id"] for k in spec.keys if k.fields.get("team_id")}
    keys = _rows(conn, "key/read_for_plan", {"aliases": sorted({k.key_alias for k in spec.keys})}) if spec.keys else []
    team_refs |= {k["team_id"] for k in keys if k["team_id"]}  # the limits a team key is held to (team_keys)
    owners = {k.fields["user_id"] for k in spec.keys if k.fields.get("user_id")}  # a user_id, SSO id or email
    user_ids = {u.user_id for u in spec.users if u.user_id} | owners
    org_reads, team_reads = (org_refs, team_refs) if known is None else \
        (org_refs - known.refs.get("org", frozenset()), team_refs - known.refs.get("team", frozenset()))
    orgs = _rows(conn, "org/read_for_plan", {"ids": sorted(org_reads), "aliases": sorted(org_reads)}) \
        if org_reads else []
    teams = _rows(conn, "team/read_for_plan", {"ids": sorted(team_reads), "aliases": sorted(team_reads)}) \
        if team_reads else []
    if known is not None:  # its rows (budgets attached already) join those read now
        orgs = [r for r in orgs if r["organization_id"] not in known.orgs.by_id]
        teams = [r for r in teams if r["team_id"] not in known.teams.by_id]
    users = _rows(conn, "user/read_for_plan", {
        "ids": sorted(user_ids), "sso_ids": sorted({u.sso_user_id for u in spec.users if u.sso_user_id} | owners),
        "emails": sorted({u.user_email.lower() for u in spec.users if u.user_email} |
                         {o.lower() for o in owners if "@" in o})}) if spec.users or user_ids else []
    raw_tokens = sorted({keyrefs.hash_key(k.raw_key) for k in spec.keys if k.raw_key})
    taken = _rows(conn, "key/tokens_taken", {"tokens": raw_tokens}) if raw_tokens else []

    # Memberships: of the users read, in the teams and organizations a membership may name (by id
    # or alias, or as a spec entry that a membership names by its other name).
    member_ids = sorted({r["user_id"] for r in users})
    all_orgs = orgs if known is None else [*known.orgs.by_id.values(), *orgs]
    all_teams = teams if known is None else [*known.teams.by_id.values(), *teams]
    team_ids = _named(all_teams, "team_id", "team_alias", team_members | {r for t in spec.teams
                                                                           for r in (t.team_id, t.team_alias) if r})
    org_ids = _named(all_orgs, "organization_id", "organization_alias",
                     org_members | {r for o in spec.organizations for r in (o.organization_id, o.organization_alias) if r})
    tms = _rows(conn, "team/memberships_for_plan", {"team_ids": team_ids, "user_ids": member_ids}) \
        if team_ids and member_ids else []
    oms = _rows(conn, "org/memberships_for_plan", {"org_ids": org_ids, "user_ids": member_ids}) \
        if org_ids and member_ids else []

    budget_ids = {r.get("budget_id") for r in (*orgs, *tms)}
    budget_ids |= {(r.get("metadata") or {}).get("team_member_budget_id") for r in teams}
    ids = sorted(b for b in budget_ids if isinstance(b, str))
    budgets = _rows(conn, "budget_row/read_for_plan", {"ids": ids}) if ids else []
    # A key asking for guaranteed throughput must fit beside every key of its team (team_keys).
    guaranteed = any(team_keys.guaranteed(k.fields) for k in spec.keys) or any(team_keys.guaranteed(k) for k in keys)
    held = _rows(conn, "key/team_limits", {"team_ids": sorted(t["team_id"] for t in all_teams)}) \
        if guaranteed and all_teams else []
    names = {kind: tuple(lookup.names(conn, kind)) for kind, rows, refs, own in (
        ("org", all_orgs, org_refs, {r for o in spec.organizations for r in (o.organization_id, o.organization_alias)}),
        ("team", all_teams, team_refs, {r for t in spec.teams for r in (t.team_id, t.team_alias)}))
        if refs - own - {n for r in rows for n in (r[lookup.GROUP_KINDS[kind][0]], r[lookup.GROUP_KINDS[kind][1]])}}
    current = Snapshot.of(orgs=orgs, teams=teams, users=users, keys=keys, taken_tokens=taken, team_members=tms,
                          org_members=oms, budgets=budgets, team_keys=held, names=names)
    tier_ids = sorted({b.budget_id for b in spec.budgets} | {k.fields["budget_id"] for k in spec.keys
                                                             if k.fields.get("budget_id")})
    if tier_ids:
        current = replace(current, tiers={r["budget_id"]: r for r in _rows(conn, "tier/read_for_plan",
                                                                           {"ids": tier_ids})})
    refs = {"org": frozenset(org_refs), "team": frozenset(team_refs)}
    if exact:
        own_teams = _named(all_teams, "team_id", "team_alias", {r for t in spec.teams for r in (t.team_id, t.team_alias) if r})
        own_orgs = _named(all_orgs, "organization_id", "organization_alias",
                          {r for o in spec.organizations for r in (o.organization_id, o.organization_alias) if r})
        current = replace(current, rosters=extras.read_rosters(
            conn, own_teams, own_orgs, [t for t in all_teams if t["team_id"] in set(own_teams)]))
    if prune:
        current = replace(current, managed=extras.read_managed(conn))
    if known is None:
        return replace(current, refs=refs)
    return replace(current, orgs=lookup.Groups.of("org", [*known.orgs.by_id.values(), *current.orgs.by_id.values()]),
                   teams=lookup.Groups.of("team", [*known.teams.by_id.values(), *current.teams.by_id.values()]),
                   refs=refs)


def _named(rows: Sequence[Row], id_name: str, alias_name: str, refs: set[str]) -> list[str]:
    """The ids of the rows whose id or alias is among `refs`."""
    return sorted({r[id_name] for r in rows if r[id_name] in refs or r[alias_name] in refs})


def _rows(conn: psycopg.Connection, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sqlfiles.run(conn, name, params)
    return rows
