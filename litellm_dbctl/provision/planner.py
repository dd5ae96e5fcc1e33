"""Planning: read, resolve, diff, assemble.

`make_plan` reads the proxy's settings and a snapshot of the rows a spec may touch; `build` is the
rest, a pure function of what was read: resolve every reference (problems stop here, listed
together with the spec's own), diff each entity kind, and assemble the Plan.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from litellm_dbctl.db import release
from litellm_dbctl.provision import diff_groups, diff_keys, diff_members, proxy_settings, snapshot
from litellm_dbctl.provision.plan import Options, Plan, assemble
from litellm_dbctl.provision.resolve import raise_problems, resolve
from litellm_dbctl.provision.spec_records import Spec

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target


def make_plan(conn: psycopg.Connection, spec: Spec, options: Options = Options(),
              now: datetime | None = None, target: Target | None = None) -> Plan:
    """The plan for `spec` against the database as it is now (reads only), under the reset rules of
    the LiteLLM release the database belongs to (or the one `target` names)."""
    settings = proxy_settings.load(conn, options.proxy_config)
    options = options.with_release(release.release_of(conn, target).line)
    return build(snapshot.read(conn, spec, settings), spec, settings, options, now or datetime.now(timezone.utc))


def build(current: snapshot.Snapshot, spec: Spec, settings: proxy_settings.ProxySettings, options: Options,
          now: datetime) -> Plan:
    """The plan for `spec` against `current`; InvalidSpec listing every problem found."""
    resolution = resolve(current, spec, settings)
    raise_problems(resolution.problems, spec.source)
    orgs = diff_groups.orgs(current, spec, resolution, options, now)
    teams, team_budgets = diff_groups.team_drafts(current, spec, resolution, settings, options, now)
    users = diff_members.user_drafts(current, spec, resolution, settings, options, now)
    members = diff_members.memberships(current, resolution, users, teams, options)
    keys = diff_keys.keys(current, spec, resolution, options, now)
    raise_problems(keys.problems, spec.source)
    return assemble([orgs, team_budgets, members.delta, keys,
                     diff_groups.team_delta(current, teams, members.rosters, options),
                     diff_members.user_delta(current, users, members.user_teams, options)],
                    now, settings.not_applied)
