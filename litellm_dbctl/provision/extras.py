"""What `--exact-members` and `--prune` plan from, besides the spec's own rows: read only with those
flags, into frozen records the pure diffs (diff_exact, diff_prune) work on.

`Rosters`: everything that makes a user a member of the spec's existing teams and organizations, in
every place LiteLLM keeps it (the roster is the team row's own; here the LiteLLM_TeamMembership
rows, the users whose `teams` name the team, and LiteLLM_OrganizationMembership rows), with those
users' rows. `Managed`: the objects a spec created (metadata.dbctl_managed), and what deleting one
would also delete (`held`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Rosters:
    team_members: Mapping[str, tuple[Row, ...]] = field(default_factory=dict)  # team_id -> TeamMembership rows
    org_members: Mapping[str, tuple[Row, ...]] = field(default_factory=dict)  # org id -> OrganizationMembership rows
    users: Mapping[str, Row] = field(default_factory=dict)  # user_id -> row (user/read_for_plan's shape)

    @classmethod
    def of(cls, *, team_members: Iterable[Row] = (), org_members: Iterable[Row] = (),
           users: Iterable[Row] = ()) -> Rosters:
        return cls(_grouped(team_members, "team_id"), _grouped(org_members, "organization_id"),
                   {u["user_id"]: u for u in users})


@dataclass(frozen=True)
class Managed:
    objects: tuple[Row, ...] = ()  # kind (org, team, user, key), id, label, team_id, user_id, organization_id
    held: tuple[Row, ...] = ()  # keys and teams the managed teams, users and orgs hold, with `managed`


def _grouped(rows: Iterable[Row], name: str) -> dict[str, tuple[Row, ...]]:
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row[name], []).append(row)
    return {k: tuple(v) for k, v in grouped.items()}


def read_rosters(conn: psycopg.Connection, team_ids: Sequence[str], org_ids: Sequence[str],
                 teams: Iterable[Row]) -> Rosters:
    """The memberships of these existing teams and organizations (`teams`: their rows, for the
    rosters' user ids), and the rows of every user they name."""
    tms = _rows(conn, "provision/team_members_of", {"team_ids": list(team_ids)}) if team_ids else []
    listed = _rows(conn, "provision/users_in_teams", {"team_ids": list(team_ids)}) if team_ids else []
    oms = _rows(conn, "provision/org_members_of", {"org_ids": list(org_ids)}) if org_ids else []
    ids = {r["user_id"] for r in (*tms, *listed, *oms)}
    for team in teams:
        members = team.get("members_with_roles")
        ids |= {e["user_id"] for e in members if isinstance(e, dict) and e.get("user_id")} \
            if isinstance(members, list) else set()
    users = _rows(conn, "user/read_for_plan", {"ids": sorted(ids), "sso_ids": [], "emails": []}) if ids else []
    return Rosters.of(team_members=tms, org_members=oms, users=users)


def read_managed(conn: psycopg.Connection) -> Managed:
    """Every object a spec created, and what its teams, users and organizations hold."""
    objects = _rows(conn, "provision/managed", {})
    return Managed(tuple(objects), tuple(held(conn, objects)))


def held(conn: psycopg.Connection, objects: Iterable[Row]) -> list[dict[str, Any]]:
    """The keys of these teams and users, and the teams and keys of these organizations."""
    ids: dict[str, list[str]] = {"team": [], "user": [], "org": []}
    for row in objects:
        if row["kind"] in ids:
            ids[row["kind"]].append(row["id"])
    if not any(ids.values()):
        return []
    return _rows(conn, "provision/managed_held", {"team_ids": ids["team"], "user_ids": ids["user"],
                                                  "org_ids": ids["org"]})


def _rows(conn: psycopg.Connection, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sqlfiles.run(conn, name, params)
    return rows
