"""Running `--prune`'s deletions (plan.Prune) inside the apply transaction, after the plan's steps,
writing what LiteLLM's delete endpoints write, in their order:

- keys (/key/delete): each copied whole to LiteLLM_DeletedVerificationToken, then deleted;
- teams (/team/delete): copied to LiteLLM_DeletedTeamTable (where the schema has it), dropped from
  every user's `teams` with their LiteLLM_TeamMembership rows, then deleted;
- users (/user/delete): dropped from every team's roster, their team and organization memberships
  and invitation links deleted, then the rows (their spend logs stay);
- organizations (/organization/delete): their memberships, then the rows.

What the plan's teams, users and organizations hold is read again first: anything that is not
among the deletions (a key made meanwhile) makes the plan stale, so apply re-plans and refuses it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from litellm_dbctl.db import sqlfiles
from litellm_dbctl.keys.archive import archive
from litellm_dbctl.provision import extras
from litellm_dbctl.provision.plan import Prune

if TYPE_CHECKING:
    import psycopg


class Stale(Exception):
    """The rows the plan deletes changed since it was read."""


def execute(conn: psycopg.Connection, prune: Prune, *, now: datetime, actor: str) -> int:
    """Delete what `prune` names; the object rows deleted (Stale when they are not all there)."""
    holders = [{"kind": kind, "id": i} for kind, ids in (("team", prune.teams), ("user", prune.users),
                                                          ("org", prune.orgs)) for i in ids]
    held = {(r["kind"], r["id"]) for r in extras.held(conn, holders)}
    if held != set(prune.held):
        raise Stale(f"held: {sorted(held ^ set(prune.held))}")
    written = 0
    if prune.keys:
        tokens = list(prune.keys)
        archive(conn, tokens, actor=actor, now=now)
        written += _expect(conn, "key/delete_many", {"tokens": tokens}, len(tokens))
    if prune.teams:
        ids = list(prune.teams)
        if sqlfiles.supported(conn, "provision/archive_teams"):
            sqlfiles.run(conn, "provision/archive_teams", {"ids": ids, "now": now, "actor": actor})
        sqlfiles.run(conn, "provision/strip_teams", {"ids": ids})
        written += _expect(conn, "provision/delete_teams", {"ids": ids}, len(ids))
    if prune.users:
        ids = list(prune.users)
        sqlfiles.run(conn, "provision/strip_users", {"ids": ids})
        sqlfiles.run(conn, "provision/delete_invitations", {"ids": ids})
        written += _expect(conn, "provision/delete_users", {"ids": ids}, len(ids))
    if prune.orgs:
        ids = list(prune.orgs)
        sqlfiles.run(conn, "provision/delete_org_memberships", {"ids": ids})
        written += _expect(conn, "provision/delete_orgs", {"ids": ids}, len(ids))
    return written


def _expect(conn: psycopg.Connection, name: str, params: dict[str, object], count: int) -> int:
    done = int(sqlfiles.run(conn, name, params))
    if done != count:
        raise Stale(f"{name}: {done} of {count} rows")
    return done
