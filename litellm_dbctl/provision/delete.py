"""Deleting users, teams and organizations as LiteLLM 1.109.1's delete endpoints do.

- `/user/delete`: the user's keys (kept in LiteLLM_DeletedVerificationToken first, as the bulk and SCIM
  deletes of the same release keep them), every team membership (roster, UserTable.teams,
  LiteLLM_TeamMembership), organization memberships, the invitation links naming the user, the row.
- `/team/delete`: refused while a deployment splits PTU capacity with the team (model_info.ptu_shares);
  else every key of the team (archived), the team's own BYOK deployments, the row archived to
  LiteLLM_DeletedTeamTable and deleted, the team stripped from every UserTable.teams, its
  LiteLLM_TeamMembership rows and its place in access groups.
- `/organization/delete`: refused as /team/delete for any team of it; else its teams (each as
  /team/delete: LiteLLM's own removes only their rows, leaving their keys and memberships pointing at
  nothing), its memberships, its keys (archived), the row. Users' organization_id is set NULL by the
  foreign key.
Spend history (LiteLLM_SpendLogs, the daily tables) is never touched. Each is one transaction
(`apply.transact`): audit rows `deleted`, the proxies' cached copies owed and dropped after the COMMIT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from litellm_dbctl.audit import trail
from litellm_dbctl.cache.invalidate import EntityRef
from litellm_dbctl.common.clock import utc_naive
from litellm_dbctl.common.errors import IntegrityError
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.keys.archive import archive
from litellm_dbctl.provision import lookup, retire
from litellm_dbctl.provision.apply import apply_plan, transact
from litellm_dbctl.provision.plan import DELETE, Change, Item, Plan

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target
    from litellm_dbctl.provision.apply import Outcome
    from litellm_dbctl.provision.plan import Options

MEMBERSHIP_TABLES = ("LiteLLM_TeamMembership", "LiteLLM_OrganizationMembership")


@dataclass
class Done:
    """What a delete wrote so far: plan items, cached objects, audit rows, rows written."""

    items: list[Item] = field(default_factory=list)
    refs: list[EntityRef] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    written: int = 0

    def plan(self, now: datetime, before: Plan | None = None) -> Plan:
        own = Plan(tuple(self.items), refs=tuple(self.refs), now=now)
        return retire.joined([before, own] if before is not None else [own], now)


def _label(row: dict[str, Any], *names: str) -> str:
    return next((str(row[n]) for n in names if row.get(n)), "")


def _delete_keys(conn: psycopg.Connection, keys: Sequence[dict[str, Any]], options: Options, now: datetime,
                 done: Done) -> None:
    """/key/delete on each: copied to LiteLLM_DeletedVerificationToken, deleted, audited `deleted`."""
    if not keys:
        return
    tokens = [k["token"] for k in keys]
    archive(conn, tokens, actor=options.actor, now=now)
    done.written += int(sqlfiles.run(conn, "key/delete_many", {"tokens": tokens}))
    for k in keys:
        done.items.append(Item("key", k["token"], _label(k, "key_alias", "key_name"), DELETE,
                               (Change("spend", k["spend"], "archived"),)))
        done.refs.append(EntityRef("key", k["token"]))
        done.audits.append(trail.row("deleted", "LiteLLM_VerificationToken", k["token"],
                                     {n: k[n] for n in ("key_alias", "key_name", "user_id", "team_id")}, None))


def _refuse_ptu(conn: psycopg.Connection, team_ids: Sequence[str], what: str) -> None:
    """raise_if_teams_hold_ptu_shares, for the deployments stored in the database."""
    held = sqlfiles.run(conn, "team/ptu_shares", {"ids": list(team_ids)})
    if held:
        team = held[0]["team_id"]
        models = ", ".join(sorted({r["model_id"] for r in held if r["team_id"] == team}))
        raise IntegrityError(f"{what}: team {team} holds a PTU share on deployment {models}; LiteLLM refuses to "
                             "delete it", hint="move its share to another team in model_info.ptu_shares first")


def _delete_teams(conn: psycopg.Connection, team_ids: Sequence[str], options: Options, now: datetime,
                  done: Done) -> None:
    """/team/delete of these teams (refusal checked by the caller)."""
    moment = utc_naive(now)
    ids = sorted(team_ids)
    for team_id in ids:  # LiteLLM's per-team lock, the one /team/member_add takes
        sqlfiles.run(conn, "team/lock_roster", {"team_id": team_id})
    teams = sqlfiles.run(conn, "team/rows_for_delete", {"ids": ids})
    _delete_keys(conn, sqlfiles.run(conn, "team/keys", {"ids": ids}), options, now, done)
    models = sqlfiles.run(conn, "team/delete_models", {"ids": ids})
    done.written += len(models)
    for name in ("team/archive_deleted", "team/archive_deleted_basic"):
        if sqlfiles.supported(conn, name):
            done.written += int(sqlfiles.run(conn, name, {"ids": ids, "actor": options.actor, "now": moment}))
            break
    users = [r["user_id"] for r in sqlfiles.run(conn, "team/strip_from_users", {"ids": ids, "now": moment})]
    members = sqlfiles.run(conn, "team/delete_memberships", {"ids": ids})
    done.written += len(users) + len(members)
    if sqlfiles.supported(conn, "team/detach_access_groups"):
        done.written += int(sqlfiles.run(conn, "team/detach_access_groups", {"ids": ids}))
    done.written += int(sqlfiles.run(conn, "team/delete", {"ids": ids}))
    for team in teams:
        team_id = team["team_id"]
        roster = [m.get("user_id") for m in team["members_with_roles"] or [] if isinstance(m, dict)] \
            if isinstance(team["members_with_roles"], list) else []
        member_ids = sorted({u for u in roster if u} | {m["user_id"] for m in members if m["team_id"] == team_id})
        changes = [Change("members", len(member_ids), 0), Change("spend", team["spend"], "archived")]
        owned = [m["model_id"] for m in models if m["team_id"] == team_id]
        if owned:
            changes.append(Change("models", owned, None))
        done.items.append(Item("team", team_id, _label(team, "team_alias"), DELETE, tuple(changes)))
        done.refs.append(EntityRef.team(team_id, team.get("team_alias")))
        done.refs.extend(EntityRef("team_member", u, team_id) for u in member_ids)
        done.audits.append(trail.row("deleted", "LiteLLM_TeamTable", team_id, team, {}))
    done.refs.extend(EntityRef("user", u) for u in sorted(set(users)))


def _finish(conn: psycopg.Connection, done: Done, options: Options, now: datetime) -> None:
    if options.audit and done.audits:
        trail.write(conn, done.audits, actor=options.actor, now=utc_naive(now))


def delete_user(target: Target, ref: str, *, options: Options, dry_run: bool = False,
                lock_timeout: float = 30.0) -> Outcome:
    """/user/delete (see the module's docstring)."""

    def build(conn: psycopg.Connection, now: datetime) -> tuple[Plan, int]:
        user = lookup.find_user(conn, ref)
        user_id = user["user_id"]
        removals = retire.memberships(conn, user, options, now)
        done = Done(written=apply_plan(conn, removals, options) if removals.changed else 0)
        row = sqlfiles.run(conn, "user/row_for_delete", {"user_id": user_id})
        _delete_keys(conn, sqlfiles.run(conn, "user/keys", {"user_id": user_id}), options, now, done)
        invitations = int(sqlfiles.run(conn, "user/delete_invitations", {"user_id": user_id}))
        done.written += invitations
        for table in MEMBERSHIP_TABLES:  # rows of teams that no longer exist, or added meanwhile
            done.written += int(sqlfiles.run(conn, "user/delete_memberships", {"user_id": user_id},
                                             identifiers={"table": table}))
        done.written += int(sqlfiles.run(conn, "user/delete", {"user_id": user_id}))
        changes = [Change("spend", row["spend"], None)] + \
            ([Change("invitation links", invitations, 0)] if invitations else [])
        done.items.insert(0, Item("user", user_id, _label(row, "user_email", "user_alias"), DELETE, tuple(changes)))
        done.refs.append(EntityRef("user", user_id))
        done.audits.append(trail.row("deleted", "LiteLLM_UserTable", user_id, row, {}))
        _finish(conn, done, options, now)
        return done.plan(now, removals), done.written

    return transact(target, "user delete", build, options=options, dry_run=dry_run, lock_timeout=lock_timeout)


def delete_team(target: Target, ref: str, *, options: Options, dry_run: bool = False,
                lock_timeout: float = 30.0) -> Outcome:
    """/team/delete (see the module's docstring)."""

    def build(conn: psycopg.Connection, now: datetime) -> tuple[Plan, int]:
        team = lookup.find_group(conn, "team", ref)
        _refuse_ptu(conn, [team["team_id"]], "team delete")
        done = Done()
        _delete_teams(conn, [team["team_id"]], options, now, done)
        _finish(conn, done, options, now)
        return done.plan(now), done.written

    return transact(target, "team delete", build, options=options, dry_run=dry_run, lock_timeout=lock_timeout)


def delete_org(target: Target, ref: str, *, options: Options, dry_run: bool = False,
               lock_timeout: float = 30.0) -> Outcome:
    """/organization/delete (see the module's docstring)."""

    def build(conn: psycopg.Connection, now: datetime) -> tuple[Plan, int]:
        org_id = lookup.find_group(conn, "org", ref)["organization_id"]
        row = sqlfiles.run(conn, "org/row_for_delete", {"org_id": org_id})
        team_ids = row.pop("team_ids") or []
        _refuse_ptu(conn, team_ids, "org delete")
        done = Done()
        if team_ids:
            _delete_teams(conn, team_ids, options, now, done)
        members = sqlfiles.run(conn, "org/delete_memberships", {"org_id": org_id})
        done.written += len(members)
        _delete_keys(conn, sqlfiles.run(conn, "org/keys", {"org_id": org_id}), options, now, done)
        done.written += int(sqlfiles.run(conn, "org/delete", {"org_id": org_id}))
        changes = [Change("teams", len(team_ids), 0), Change("members", len(members), 0),
                   Change("spend", row["spend"], None)]
        done.items.insert(0, Item("organization", org_id, _label(row, "organization_alias"), DELETE, tuple(changes)))
        done.refs.append(EntityRef("org", org_id))
        done.refs.extend(EntityRef("user", m["user_id"]) for m in members)
        done.audits.append(trail.row("deleted", "LiteLLM_OrganizationTable", org_id, row, {}))
        _finish(conn, done, options, now)
        return done.plan(now), done.written

    return transact(target, "org delete", build, options=options, dry_run=dry_run, lock_timeout=lock_timeout)
