"""Planning: read, resolve, diff, assemble.

`make_plan` reads the proxy's settings and a snapshot of the rows a spec may touch; `build` is the
rest, a pure function of what was read: resolve every reference (problems stop here, listed
together with the spec's own), diff each entity kind, and assemble the Plan.

`check` (validate) finds the same problems and counts the same objects a chunk of users at a time:
organizations, teams and keys are planned once, each chunk of users is read, resolved, diffed,
counted and dropped, so a 620,000-user spec is checked in bounded memory. What one user's check
needs of the others is whole-file already (the spec reader's duplicates) or `resolve.Shared`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from litellm_dbctl.db import release
from litellm_dbctl.provision import (
    diff_exact,
    diff_groups,
    diff_keys,
    diff_members,
    diff_prune,
    diff_tiers,
    proxy_settings,
    snapshot,
)
from litellm_dbctl.provision.plan import UNCHANGED, Delta, Options, Plan, assemble
from litellm_dbctl.provision.resolve import (
    STEPS,
    USER_STEPS,
    Resolution,
    Shared,
    email_clashes,
    raise_problems,
    resolve,
    user_refs,
)
from litellm_dbctl.provision.spec_records import Spec

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

CHUNK = 20_000  # users a chunked check plans at a time: ~2.3 KB of plan each, besides their records
USER_KINDS = frozenset({"user", "team_member", "org_member"})  # the items a chunk of users plans


def make_plan(conn: psycopg.Connection, spec: Spec, options: Options = Options(),
              now: datetime | None = None, target: Target | None = None) -> Plan:
    """The plan for `spec` against the database as it is now (reads only), under the reset rules of
    the LiteLLM release the database belongs to (or the one `target` names)."""
    assert not spec.sealed, "a spec read in chunks is checked with `check`"
    settings = proxy_settings.load(conn, options.proxy_config)
    options = options.with_release(release.release_of(conn, target).line)
    current = snapshot.read(conn, spec, settings, exact=options.exact_members, prune=options.prune)
    return build(current, spec, settings, options, now or datetime.now(timezone.utc))


def build(current: snapshot.Snapshot, spec: Spec, settings: proxy_settings.ProxySettings, options: Options,
          now: datetime) -> Plan:
    """The plan for `spec` against `current`; InvalidSpec listing every problem found."""
    resolution = resolve(current, spec, settings)
    raise_problems(resolution.problems, spec.source)
    return diff(current, spec, resolution, settings, options, now)


def diff(current: snapshot.Snapshot, spec: Spec, resolution: Resolution, settings: proxy_settings.ProxySettings,
         options: Options, now: datetime) -> Plan:
    """The plan of a resolved spec (InvalidSpec for a key alias several keys have)."""
    orgs = diff_groups.orgs(current, spec, resolution, options, now)
    teams, team_budgets = diff_groups.team_drafts(current, spec, resolution, settings, options, now)
    users = diff_members.user_drafts(current, spec, resolution, settings, options, now)
    members = diff_members.memberships(current, resolution, users, teams, options)
    keys = diff_keys.keys(current, spec, resolution, options, now)
    pruned = diff_prune.prune(current, spec, resolution, options) if options.prune else Delta()
    raise_problems([*diff_tiers.unknown_tiers(current, spec), *keys.problems, *pruned.problems], spec.source)
    exact = diff_exact.removals(current, resolution, users, teams, members, options) if options.exact_members \
        else diff_exact.Exact(Delta(), members.rosters, members.user_teams)
    return assemble([diff_tiers.tiers(current, spec, options, now), orgs, team_budgets, members.delta, exact.delta,
                     keys, diff_groups.team_delta(current, teams, exact.rosters, options),
                     diff_members.user_delta(current, users, exact.user_teams, options), pruned],
                    now, settings.not_applied)


@dataclass(frozen=True)
class Checked:
    """What validate says of a valid spec: its plan's objects, and how many would change."""

    objects: int
    changed: int


def check(conn: psycopg.Connection, spec: Spec, options: Options = Options(), now: datetime | None = None,
          chunk: int = CHUNK, target: Target | None = None) -> Checked:
    """`make_plan`'s objects and changes for `spec`, or its InvalidSpec with the same problems in the
    same order, planning `chunk` users at a time (`spec` may be read in chunks: specs.load)."""
    settings = proxy_settings.load(conn, options.proxy_config)
    options = options.with_release(release.release_of(conn, target).line)
    moment = now or datetime.now(timezone.utc)
    groups = spec.groups()
    current = snapshot.read(conn, groups, settings)
    shared = Shared(spec.user_refs or user_refs(spec.users))
    resolution = resolve(current, groups, settings, shared)
    found: dict[str, list[Any]] = {step: list(resolution.steps[step]) for step in STEPS}
    members: list[tuple[tuple[int, int, int], tuple[int, str]]] = []  # (whole-spec order, problem)
    valid = not resolution.problems
    objects = changed = 0
    for number, (sub, positions) in enumerate(spec.user_chunks(chunk)):
        rows = snapshot.read(conn, sub, settings, current)
        part = resolve(rows, sub, settings, shared)
        found["users"].extend(part.steps["users"])
        members.extend(((0, positions[at], 0) if at < len(positions) else (1, number, at), problem)
                       for at, problem in zip(part.membership_at, part.steps["memberships"]))
        valid = valid and not any(part.steps[step] for step in USER_STEPS)
        if valid:
            items = [item for item in diff(rows, sub, part, settings, options, moment).items if item.kind in USER_KINDS]
            objects += len(items)
            changed += sum(1 for item in items if item.action != UNCHANGED)
        del rows, part, sub
    email_clashes(shared, found["emails"])
    found["memberships"] = [problem for _, problem in sorted(members, key=lambda m: m[0])]
    raise_problems([problem for step in STEPS for problem in found[step]], spec.source)
    plan = diff(current, groups, resolution, settings, options, moment)
    return Checked(objects + len(plan.items), changed + plan.summary().changed)
