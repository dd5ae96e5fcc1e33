"""The read side of provisioning: users, teams, organizations and keys with members, budgets and spend.

Every function takes a connection (the CLI opens it READ ONLY) and returns plain rows or a frozen
dataclass; references are resolved by `lookup`, as the provisioning commands resolve them (a team
or organization by id or alias, a user by user_id, sso_user_id or email).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litellm_dbctl.db import sqlfiles
from litellm_dbctl.provision import lookup
from litellm_dbctl.provision.lookup import find_group, find_user

if TYPE_CHECKING:
    import psycopg

KEYS_SHOWN = 1000  # keys a user or team show lists, as `key list` does by default


@dataclass(frozen=True)
class UserDetail:
    user: dict[str, Any]
    teams: list[dict[str, Any]]
    organizations: list[dict[str, Any]]
    keys: list[dict[str, Any]]


@dataclass(frozen=True)
class TeamDetail:
    team: dict[str, Any]
    members: list[dict[str, Any]]
    member_budget: dict[str, Any] | None
    keys: list[dict[str, Any]]


@dataclass(frozen=True)
class OrgDetail:
    organization: dict[str, Any]
    members: list[dict[str, Any]]
    teams: list[dict[str, Any]]


def users(conn: psycopg.Connection, *, team: str | None = None, org: str | None = None, email: str | None = None,
          role: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    return _rows(conn, "user/list", {"team_id": lookup.group_id(conn, "team", team),
                                     "org_id": lookup.group_id(conn, "org", org), "email": email, "role": role,
                                     "limit": limit})


def user(conn: psycopg.Connection, ref: str) -> UserDetail:
    user_id = find_user(conn, ref)["user_id"]
    return UserDetail(sqlfiles.run(conn, "user/detail", {"user_id": user_id}),
                      _rows(conn, "user/teams", {"user_id": user_id}),
                      _rows(conn, "user/orgs", {"user_id": user_id}),
                      [shorten(k) for k in _keys(conn, user_id, None, None, KEYS_SHOWN)])


def teams(conn: psycopg.Connection, *, org: str | None = None, alias: str | None = None,
          limit: int = 1000) -> list[dict[str, Any]]:
    return _rows(conn, "team/list", {"org": lookup.group_id(conn, "org", org), "alias": alias, "limit": limit})


def team(conn: psycopg.Connection, ref: str) -> TeamDetail:
    team_id = find_group(conn, "team", ref)["team_id"]
    row = sqlfiles.run(conn, "team/detail", {"team_id": team_id})
    member = {k.removeprefix("member_"): row.pop(k) for k in list(row) if k.startswith("member_")}
    member_budget_id = (row.get("metadata") or {}).get("team_member_budget_id")
    member_budget = {"budget_id": member_budget_id, **member} if member_budget_id else None
    return TeamDetail(row, _rows(conn, "team/members", {"team_id": team_id}), member_budget,
                      [shorten(k) for k in _keys(conn, None, team_id, None, KEYS_SHOWN)])


def orgs(conn: psycopg.Connection, *, alias: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    return _rows(conn, "org/list", {"alias": alias, "limit": limit})


def org(conn: psycopg.Connection, ref: str) -> OrgDetail:
    org_id = find_group(conn, "org", ref)["organization_id"]
    return OrgDetail(sqlfiles.run(conn, "org/detail", {"organization_id": org_id}),
                     _rows(conn, "org/members", {"organization_id": org_id}),
                     _rows(conn, "org/teams", {"organization_id": org_id}))


def keys(conn: psycopg.Connection, *, user: str | None = None, team: str | None = None, alias: str | None = None,
         limit: int = 1000) -> list[dict[str, Any]]:
    """Keys (never a raw key: the database does not have it) of a user (user_id, SSO id or email),
    of a team (id or alias), with an alias; all of them when nothing is given."""
    return _keys(conn, lookup.user_id(conn, user), lookup.group_id(conn, "team", team), alias, limit)


def _keys(conn: psycopg.Connection, user_id: str | None, team_id: str | None, alias: str | None,
          limit: int) -> list[dict[str, Any]]:
    return _rows(conn, "key/list", {"user_id": user_id, "team_id": team_id, "alias": alias, "limit": limit})


def _rows(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sqlfiles.run(conn, name, params)
    return rows


def shorten(key: dict[str, Any], *, full_hash: bool = False) -> dict[str, Any]:
    """A key row fit to show: the token cut to its first 12 characters (bare, so scripts can match
    it as a prefix) unless the full hash is asked for."""
    out = dict(key)
    if not full_hash:
        out["token"] = key["token"][:12]
    return out
