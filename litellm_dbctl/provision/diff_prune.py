"""`--prune`: the objects a spec created (metadata.dbctl_managed, plan.MARK) that the spec no longer
lists are deleted; a pure function of the snapshot (its `managed`), the spec and its resolution.

Listed means defined in the spec, or named by it (a membership's team or organization, a key's team
or owner): deleting those would break the spec itself. Nothing unmarked is ever deleted, so a
marked team, user or organization holding something that stays (a key made by hand, a key the spec
still lists, a team outside the spec in a pruned organization) is refused, naming both: LiteLLM's
delete endpoints would take what it holds with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litellm_dbctl.cache.invalidate import EntityRef
from litellm_dbctl.provision.extras import Managed
from litellm_dbctl.provision.plan import DELETE, Delta, Item, Options, Prune, audit_row
from litellm_dbctl.provision.resolve import Resolution
from litellm_dbctl.provision.snapshot import Snapshot
from litellm_dbctl.provision.spec_records import Spec

Row = Mapping[str, Any]
KIND = {"org": "organization", "team": "team", "user": "user", "key": "key"}  # managed.sql's kinds -> Item kinds
OWNER = {"team": "team_id", "user": "user_id", "org": "organization_id"}  # a held row's column naming its holder


def spec_listed(spec: Spec, resolution: Resolution) -> dict[str, set[str]]:
    """Kind (org, team, user, key) -> the ids (keys: aliases) the spec defines or names."""
    teams = set(resolution.team_ids) | {v for (kind, _), v in resolution.targets.items() if kind == "team" and v}
    orgs = set(resolution.org_ids) | {v for (kind, _), v in resolution.targets.items() if kind == "org" and v}
    users = set(resolution.user_ids)
    for key in spec.keys:
        if key.fields.get("team_id"):
            teams.add(resolution.teams.find(key.fields["team_id"]) or key.fields["team_id"])
        if key.fields.get("user_id"):
            users.add(key.fields["user_id"])
    for team in spec.teams:
        if team.fields.get("organization_id"):
            orgs.add(resolution.orgs.find(team.fields["organization_id"]) or team.fields["organization_id"])
    return {"org": orgs, "team": teams, "user": users, "key": {k.key_alias for k in spec.keys}}


def prune(snapshot: Snapshot, spec: Spec, resolution: Resolution, options: Options) -> Delta:
    """The deletions, or the problems that refuse them."""
    managed = snapshot.managed or Managed()
    listed = spec_listed(spec, resolution)
    gone: dict[str, dict[str, Row]] = {kind: {} for kind in KIND}
    for row in managed.objects:
        name = row["label"] if row["kind"] == "key" else row["id"]
        if name not in listed[row["kind"]]:
            gone[row["kind"]][row["id"]] = row
    problems: list[tuple[int, str]] = []
    held: set[tuple[str, str]] = set()
    for row in managed.held:
        for holder, column in OWNER.items():
            owner = gone[holder].get(row[column]) if row[column] else None
            if owner is None or (holder == "team" and row["kind"] == "team"):
                continue
            held.add((row["kind"], row["id"]))
            if row["id"] not in gone[row["kind"]]:
                why = "made outside a spec" if not row["managed"] else "still in the spec"
                problems.append((0, f"--prune: {KIND[holder]} {owner['label'] or owner['id']!r} holds "
                                    f"{KIND[row['kind']]} {row['label'] or row['id']!r} ({why}), which deleting it "
                                    f"would delete too; delete or move that {KIND[row['kind']]} first, or keep the "
                                    f"{KIND[holder]} in the spec"))
    items: list[Item] = []
    audits: list[Row] = []
    refs: list[EntityRef] = []
    for kind in ("org", "team", "user", "key"):
        for object_id, row in sorted(gone[kind].items(), key=lambda p: (p[1]["label"] or "", p[0])):
            label = row["label"] or object_id
            items.append(Item(KIND[kind], row["label"] if kind == "key" and row["label"] else object_id, label,
                              DELETE))
            refs.append(EntityRef.team(object_id, row["label"]) if kind == "team" else EntityRef(kind, object_id))
            if options.audit:
                before = {k: row[k] for k in ("label", "team_id", "user_id", "organization_id") if row.get(k)}
                audits.append(audit_row("deleted", KIND[kind], object_id, before, None))
    plan = Prune(tuple(sorted(gone["key"])), tuple(sorted(gone["team"])), tuple(sorted(gone["user"])),
                 tuple(sorted(gone["org"])), frozenset(held))
    return Delta(items, {"audit/copy_in": audits}, refs=refs, problems=problems, prune=plan if plan else None)
