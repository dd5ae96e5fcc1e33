"""The diff of budget tiers (a spec's `budgets` section): a pure function of the snapshot and the spec.

A tier is a LiteLLM_BudgetTable row found by its budget_id, shared by the keys (and end users) that
name it. A missing one is created as /budget/new creates it (budget_reset_at the next boundary of
its budget_duration); an existing one is updated in the fields the spec names, as /budget/update
does, budget_reset_at moving only when the duration changes (dbctl's rule for every budget row).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from litellm_dbctl.provision.plan import (
    CREATE,
    TIER_COLUMNS,
    UNCHANGED,
    UPDATE,
    Change,
    Delta,
    Item,
    Options,
    audit_row,
    budget_fields,
    changes,
)
from litellm_dbctl.provision.snapshot import Snapshot
from litellm_dbctl.provision.spec_records import Spec, field_loc

Row = Mapping[str, Any]


def tiers(snapshot: Snapshot, spec: Spec, options: Options, now: datetime) -> Delta:
    inserts: list[Row] = []
    updates: list[Row] = []
    seen: dict[str, str] = {}
    items: list[Item] = []
    audits: list[Row] = []
    for tier in spec.budgets:
        row = snapshot.tiers.get(tier.budget_id)
        desired = {k: v for k, v in tier.fields.items() if k in TIER_COLUMNS} | \
            budget_fields(tier.fields, row, now, options.policy)
        if row is None:
            new = {"budget_id": tier.budget_id, **dict.fromkeys(TIER_COLUMNS), **desired}
            inserts.append(new)
            items.append(Item("budget", tier.budget_id, tier.budget_id, CREATE,
                              tuple(Change(k, None, v) for k, v in desired.items())))
            if options.audit:
                audits.append(audit_row("created", "budget", tier.budget_id, None, new))
            continue
        found = changes(row, desired)
        if found:
            merged = {"budget_id": tier.budget_id, **{k: row.get(k) for k in TIER_COLUMNS}}
            merged.update({c.field: c.new for c in found})
            updates.append(merged)
            seen[tier.budget_id] = row["seen"]
            if options.audit:
                audits.append(audit_row("updated", "budget", tier.budget_id, {c.field: c.old for c in found},
                                        {c.field: c.new for c in found}))
        items.append(Item("budget", tier.budget_id, tier.budget_id, UPDATE if found else UNCHANGED, tuple(found)))
    return Delta(items, {"tier/insert_many": inserts, "tier/update_many": updates, "audit/copy_in": audits},
                 locks={"tier": seen})


def unknown_tiers(snapshot: Snapshot, spec: Spec) -> list[tuple[int, str]]:
    """A key naming a budget_id that is neither in the spec's `budgets` nor in the database: exit 2
    (LiteLLM's foreign key would refuse it)."""
    declared = {b.budget_id for b in spec.budgets}
    problems = []
    for key in spec.keys:
        budget_id = key.fields.get("budget_id")
        if budget_id and budget_id not in declared and budget_id not in snapshot.tiers:
            loc = field_loc(key, "budget_id")
            problems.append((loc.line, f"{loc}: {key.where}.budget_id: no budget tier {budget_id!r} in the spec's "
                                       "budgets or in the database (LiteLLM_BudgetTable)"))
    return problems
