"""The diff of virtual keys: a pure function of the snapshot, the spec and its resolution.

A key is found by its alias (LiteLLM keeps aliases unique). A missing one is created as
/key/generate creates it, with the spec's raw key or a new one (shown once, by the caller); an
existing one is updated field by field and never re-keyed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from litellm_dbctl.cache.invalidate import EntityRef
from litellm_dbctl.provision import tokens
from litellm_dbctl.provision.plan import (
    CREATE,
    KEY_COLUMNS,
    UNCHANGED,
    UPDATE,
    Change,
    Delta,
    Item,
    Options,
    audit_row,
    budget_fields,
    changes,
    keep_mark,
    key_row,
    marked,
)
from litellm_dbctl.provision.resolve import Resolution
from litellm_dbctl.provision.snapshot import Snapshot
from litellm_dbctl.provision.spec_records import Spec, field_loc

Row = Mapping[str, Any]


def keys(snapshot: Snapshot, spec: Spec, resolution: Resolution, options: Options, now: datetime) -> Delta:
    inserts: list[Row] = []
    updates: list[Row] = []
    seen: dict[str, str] = {}
    items: list[Item] = []
    audits: list[Row] = []
    refs: list[EntityRef] = []
    created: list[tokens.CreatedKey] = []
    problems: list[tuple[int, str]] = []
    for key in spec.keys:
        rows = snapshot.keys.get(key.key_alias, ())
        if len(rows) > 1:
            loc = field_loc(key, "key_alias")
            problems.append((loc.line, f"{loc}: {key.where}.key_alias: alias {key.key_alias!r} matches {len(rows)} "
                                       "keys in the database"))
            continue
        fields = dict(key.fields)
        if fields.get("team_id"):
            fields["team_id"] = resolution.teams.find(fields["team_id"])
        if fields.get("user_id"):
            fields["user_id"] = resolution.key_owners.get(fields["user_id"], fields["user_id"])
        duration = fields.pop("duration", None)
        row = rows[0] if rows else None
        desired = {k: v for k, v in fields.items() if k in KEY_COLUMNS} | \
            budget_fields(fields, row, now, options.policy)
        if row is None:
            new_key = tokens.make_key(key.raw_key, key.key_alias)
            new = key_row(new_key, desired, duration, now)
            new["metadata"] = marked(new["metadata"], options)
            inserts.append(new)
            created.append(new_key)
            label = new_key.key_name if key.raw_key else key.key_alias  # a generated key's name is this run's
            items.append(Item("key", key.key_alias, label, CREATE, tuple(Change(k, None, v) for k, v in desired.items())))
            if options.audit:
                audits.append(audit_row("created", "key", new_key.token, None, dict(new)))
            continue
        keep_mark(desired, row)
        found = changes(row, desired)
        label = row.get("key_name") or key.key_alias
        if found:
            merged = {"token": row["token"], **{k: row.get(k) for k in KEY_COLUMNS}}
            for change in found:
                merged[change.field] = change.new
            updates.append(merged)
            seen[row["token"]] = row["seen"]
            if options.audit:
                audits.append(audit_row("updated", "key", row["token"], {c.field: c.old for c in found},
                                        {c.field: c.new for c in found}))
            refs.append(EntityRef("key", row["token"]))
        items.append(Item("key", key.key_alias, label, UPDATE if found else UNCHANGED, tuple(found)))
    return Delta(items, {"key/insert_many": inserts, "key/update_many": updates, "audit/copy_in": audits},
                 locks={"key": seen}, refs=refs, created_keys=created, problems=problems)
