"""The read side of provisioning: users, teams and organizations with members, budgets and spend.

Every function takes a connection (the CLI opens it READ ONLY) and returns plain rows or a frozen
dataclass; references are resolved as the provisioning commands resolve them (a team or
organization by id or alias, a user by user_id, sso_user_id or email).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litellm_dbctl.db import sqlfiles
from litellm_dbctl.keys import manage as keys
from litellm_dbctl.provision import provisioning

if TYPE_CHECKING:
    import psycopg


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
    team_id = provisioning.find_group(conn, "team", team)["team_id"] if team else None
    org_id = provisioning.find_group(conn, "org", org)["organization_id"] if org else None
    return sqlfiles.run(conn, "user/list", {"team_id": team_id, "org_id": org_id, "email": email, "role": role,
                                            "limit": limit})


def user(conn: psycopg.Connection, ref: str) -> UserDetail:
    user_id = provisioning.find_user(conn, ref)["user_id"]
    return UserDetail(sqlfiles.run(conn, "user/detail", {"user_id": user_id}),
                      sqlfiles.run(conn, "user/teams", {"user_id": user_id}),
                      sqlfiles.run(conn, "user/orgs", {"user_id": user_id}),
                      [shorten(k) for k in keys.list_keys(conn, user_id=user_id)])


def teams(conn: psycopg.Connection, *, org: str | None = None, alias: str | None = None,
          limit: int = 1000) -> list[dict[str, Any]]:
    org_id = provisioning.find_group(conn, "org", org)["organization_id"] if org else None
    return sqlfiles.run(conn, "team/list", {"org": org_id, "alias": alias, "limit": limit})


def team(conn: psycopg.Connection, ref: str) -> TeamDetail:
    team_id = provisioning.find_group(conn, "team", ref)["team_id"]
    row = sqlfiles.run(conn, "team/detail", {"team_id": team_id})
    member = {k.removeprefix("member_"): row.pop(k) for k in list(row) if k.startswith("member_")}
    member_budget_id = (row.get("metadata") or {}).get("team_member_budget_id")
    member_budget = {"budget_id": member_budget_id, **member} if member_budget_id else None
    return TeamDetail(row, sqlfiles.run(conn, "team/members", {"team_id": team_id}), member_budget,
                      [shorten(k) for k in keys.list_keys(conn, team_id=team_id)])


def orgs(conn: psycopg.Connection, *, alias: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    return sqlfiles.run(conn, "org/list", {"alias": alias, "limit": limit})


def org(conn: psycopg.Connection, ref: str) -> OrgDetail:
    org_id = provisioning.find_group(conn, "org", ref)["organization_id"]
    return OrgDetail(sqlfiles.run(conn, "org/detail", {"organization_id": org_id}), sqlfiles.run(conn, "org/members", {"organization_id": org_id}),
                     sqlfiles.run(conn, "org/teams", {"organization_id": org_id}))


def shorten(key: dict[str, Any], *, full_hash: bool = False) -> dict[str, Any]:
    """A key row fit to show: the token cut to its first 12 characters (bare, so scripts can match
    it as a prefix) unless the full hash is asked for."""
    out = dict(key)
    if not full_hash:
        out["token"] = key["token"][:12]
    return out
