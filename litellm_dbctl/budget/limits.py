"""Declared budget limits: a budgets.yaml read, validated whole, and written where it differs.

The file names entities and the limits they should have; entities it does not name are untouched,
and so are fields an entry leaves out (`null` clears a limit). Where the limits live follows
LiteLLM's schema: keys, users and teams hold them in their own row; organizations, end users and
tags hold them in a budget tier (LiteLLM_BudgetTable) they link to, which budget sync changes only
when no other row shares it (an end user or tag without a tier gets one, as LiteLLM's endpoints
do); `budgets:` names tiers directly. A changed budget_duration moves budget_reset_at to the next
boundary of the new duration (LiteLLM's update endpoints do the same); spend is never touched here.

The whole file is checked before anything is written: its shape here (exit 2 with every problem
and its line), the names it uses against the database inside the sync transaction (exit 2 again,
the transaction rolled back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litellm_dbctl.budget.records import Change
from litellm_dbctl.common import checks, clock, durations, uuids
from litellm_dbctl.common.durations import ResetPolicy
from litellm_dbctl.common.errors import InvalidInput, InvalidSpec
from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg

LIMIT_FIELDS = ("max_budget", "soft_budget", "budget_duration", "tpm_limit", "rpm_limit")


@dataclass(frozen=True)
class Section:
    """A top-level list of a budgets file: which entities, named how, holding which limits."""

    entity: str
    identities: tuple[str, ...]  # accepted identity fields, e.g. ("id", "alias")
    fields: tuple[str, ...]
    on_tier: bool = False  # limits live on the linked LiteLLM_BudgetTable row


SECTIONS = {
    "keys": Section("key", ("alias",), ("max_budget", "budget_duration", "tpm_limit", "rpm_limit")),
    "users": Section("user", ("id",), ("max_budget", "budget_duration", "tpm_limit", "rpm_limit")),
    "teams": Section("team", ("id", "alias"), LIMIT_FIELDS),
    "orgs": Section("org", ("id", "alias"), LIMIT_FIELDS, on_tier=True),
    "end_users": Section("end_user", ("id",), LIMIT_FIELDS, on_tier=True),
    "tags": Section("tag", ("name",), LIMIT_FIELDS, on_tier=True),
    "budgets": Section("budget", ("id",), LIMIT_FIELDS),
}
SET_LIMITS: dict[str, tuple[str, Mapping[str, str] | None]] = {  # the statement writing each table's limits
    "key": ("budget/set_limits", {"table": "LiteLLM_VerificationToken", "id": "token"}),
    "user": ("budget/set_limits", {"table": "LiteLLM_UserTable", "id": "user_id"}),
    "team": ("budget/set_team_limits", None),  # soft_budget too, on a later schema than the tiers'
    "budget": ("budget/set_budget_limits", None),
}
NOT_HERE = {  # a field LiteLLM keeps elsewhere for this entity: say where
    ("keys", "soft_budget"): "keys have no soft_budget column; set it on the key's budget tier under budgets:",
    ("users", "soft_budget"): "users have no soft_budget column in LiteLLM",
}


@dataclass(frozen=True)
class LimitEntry:
    section: str
    identity: str  # which identity field the entry used
    name: str  # its value
    fields: Mapping[str, Any]  # only the limits the entry declares (None clears one)
    line: int

    @property
    def entity(self) -> str:
        return SECTIONS[self.section].entity

    def where(self, source: str) -> str:
        return f"{source}:{self.line}: {self.section} {self.identity}={self.name!r}"


@dataclass(frozen=True)
class LimitsSpec:
    source: str
    entries: tuple[LimitEntry, ...]


# -- reading and validating the file ------------------------------------------------------------


def load(path: Path | str, policy: ResetPolicy = durations.UTC_MIDNIGHT) -> LimitsSpec:
    """Read and validate a budgets file; raises InvalidSpec listing every problem with its line."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read budgets file {source}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:  # a binary file, or another encoding
        line = exc.object[:exc.start].count(b"\n") + 1
        raise InvalidInput(f"{source}:{line}: not UTF-8 text (byte {exc.start})") from None
    return parse(text, source, policy)


def parse(text: str, source: str, policy: ResetPolicy = durations.UTC_MIDNIGHT) -> LimitsSpec:
    import yaml  # deferred: PyYAML costs ~13 ms to import, and only a run with a limits file reads YAML

    try:
        root: Any = yaml.compose(text, Loader=yaml.SafeLoader)  # nodes: .id is scalar, sequence or mapping
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise InvalidInput(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:  # PyYAML's composer recurses per level
        raise InvalidInput(f"{source}: nested too deeply (hundreds of levels) to read") from None
    if root is None:
        return LimitsSpec(source, ())
    if root.id != "mapping":
        raise InvalidSpec([f"{source}:{_line(root)}: expected a mapping of sections "
                           f"({', '.join(SECTIONS)})"], source=source)
    value: Callable[[Any], Any] = partial(yaml.SafeLoader("").construct_object, deep=True)  # a node's value
    problems: list[str] = []
    entries: list[LimitEntry] = []
    seen_sections: set[str] = set()
    for key_node, value_node in root.value:
        section = _scalar(value(key_node))
        where = f"{source}:{_line(key_node)}"
        if section not in SECTIONS:
            problems.append(f"{where}: unknown section {section!r} (expected one of {', '.join(SECTIONS)})")
            continue
        if section in seen_sections:
            problems.append(f"{where}: section {section!r} appears twice")
            continue
        seen_sections.add(section)
        if value_node.id == "scalar" and value(value_node) is None:
            continue
        if value_node.id != "sequence":
            problems.append(f"{where}: {section} must be a list of entries")
            continue
        for index, item in enumerate(value_node.value):
            entry = _entry(section, index, item, source, policy, value, problems)
            if entry is not None:
                entries.append(entry)
    seen: dict[tuple[str, str, str], LimitEntry] = {}
    for entry in entries:
        key = (entry.section, entry.identity, entry.name)
        if key in seen:
            problems.append(f"{entry.where(source)}: named twice (first at line {seen[key].line})")
        seen.setdefault(key, entry)
    if problems:
        raise InvalidSpec(problems, source=source)
    return LimitsSpec(source, tuple(entries))


def _entry(section: str, index: int, node: Any, source: str, policy: ResetPolicy, value: Callable[[Any], Any],
           problems: list[str]) -> LimitEntry | None:
    """One entry of a section, or None after adding its problems (`source:line: field: message`)."""
    spec = SECTIONS[section]
    where = f"{source}:{_line(node)}: {section}[{index}]"
    if node.id != "mapping":
        problems.append(f"{where}: expected a mapping like {{{spec.identities[0]}: ..., max_budget: ...}}")
        return None
    identity: tuple[str, str] | None = None
    identity_given = False  # an unusable one is reported as such, not also as missing
    fields: dict[str, Any] = {}
    before = len(problems)
    for key_node, value_node in node.value:
        name = _scalar(value(key_node))
        here = f"{source}:{_line(key_node)}: {section}[{index}].{name}"
        given = value(value_node)
        if name in spec.identities:
            identity_given = True
            if identity is not None:
                problems.append(f"{here}: give one of {' or '.join(spec.identities)}, not both")
                continue
            try:
                identity = (name, checks.name(given))
            except checks.InvalidValue as exc:
                problems.append(f"{here}: {exc}")
        elif name in fields:
            problems.append(f"{here}: appears twice")
        elif (section, name) in NOT_HERE:
            problems.append(f"{here}: {NOT_HERE[(section, name)]}")
        elif name not in spec.fields:
            problems.append(f"{here}: unknown field (expected {', '.join(spec.identities + spec.fields)})")
        else:
            try:
                check_field(name, given, policy)
            except checks.InvalidValue as exc:
                problems.append(f"{here}: {exc}")
            else:
                fields[name] = given  # as written: the report shows the file's 50, not 50.0
    if not identity_given:
        problems.append(f"{where}: missing {' or '.join(spec.identities)}")
    if len(problems) > before or identity is None:
        return None
    return LimitEntry(section, identity[0], identity[1], fields, _line(node))


def _line(node: Any) -> int:
    return int(node.start_mark.line) + 1


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


# -- value checks: the rules every input shares (common.checks), met by budgets.yaml's fields ----


def check_field(name: str, value: Any, policy: ResetPolicy) -> None:
    """Refuse (checks.InvalidValue) what limit `name` cannot hold; `null` clears any limit."""
    if value is None:
        return
    if name in ("max_budget", "soft_budget"):
        checks.number(value)
    elif name in ("tpm_limit", "rpm_limit"):
        checks.whole(value)
    elif name == "budget_duration":
        checks.duration(value, policy=policy)
    else:
        raise AssertionError(f"no check for {name}")


# -- resolving and applying ---------------------------------------------------------------------


@dataclass
class _Target:
    """A row whose limit columns budget sync writes: current values, then the wanted ones."""

    table: str  # key|user|team|budget
    id: str
    current: dict[str, Any]
    wanted: dict[str, Any]
    owners: list[tuple[str, str, str | None]]  # (entity, id, name) reported for this row's change


def apply(conn: psycopg.Connection, spec: LimitsSpec, now: datetime, policy: ResetPolicy) -> list[Change]:
    """Resolve every name (all or nothing: InvalidSpec), then write the differences."""
    problems: list[str] = []
    targets: dict[tuple[str, str], _Target] = {}
    created: list[tuple[LimitEntry, str, str | None]] = []  # (entry, owner id, owner name): tier to create
    declared_by: dict[tuple[str, str], LimitEntry] = {}

    def claim(table: str, row: Mapping[str, Any], entry: LimitEntry, owner: tuple[str, str, str | None]) -> None:
        key = (table, row["id"])
        if key in declared_by:
            first = declared_by[key]
            problems.append(f"{entry.where(spec.source)}: same {table} row as line {first.line} "
                            f"({first.section} {first.identity}={first.name!r}); declare it once")
            return
        declared_by[key] = entry
        current = {f: row[f] for f in LIMIT_FIELDS}
        current["budget_reset_at"] = row["budget_reset_at"]
        targets[key] = _Target(table, row["id"], current, {**current, **entry.fields}, [owner])

    by_section: dict[str, list[LimitEntry]] = {}
    for entry in spec.entries:
        by_section.setdefault(entry.section, []).append(entry)

    for section, table in (("keys", "key"), ("users", "user"), ("teams", "team")):
        entries = by_section.get(section, [])
        if not entries:
            continue
        if section == "teams":  # by team_id or by team_alias
            params: dict[str, Any] = {"idents": [e.name for e in entries if e.identity == "id"],
                                      "aliases": [e.name for e in entries if e.identity == "alias"]}
        else:  # keys by alias, users by id: one identity each
            params = {"idents": [e.name for e in entries]}
        rows = sqlfiles.run(conn, f"budget/limits_{section}", params)
        for entry in entries:
            matches = [r for r in rows if _matches(r, entry, section)]
            if len(matches) != 1:
                problems.append(_not_one(entry, spec.source, len(matches)))
                continue
            claim(table, matches[0], entry, (table, matches[0]["id"], matches[0]["name"]))

    owner_entries = [e for s in ("orgs", "end_users", "tags") for e in by_section.get(s, [])]
    tier_ids = [e.name for e in by_section.get("budgets", [])]
    owner_tiers: dict[str, tuple[LimitEntry, Mapping[str, Any]]] = {}
    if owner_entries:
        owners = sqlfiles.run(conn, "budget/limits_owners", {
            "org_ids": [e.name for e in owner_entries if e.section == "orgs" and e.identity == "id"],
            "org_aliases": [e.name for e in owner_entries if e.section == "orgs" and e.identity == "alias"],
            "end_user_ids": [e.name for e in owner_entries if e.section == "end_users"],
            "tag_names": [e.name for e in owner_entries if e.section == "tags"],
        })
        for entry in owner_entries:
            matches = [o for o in owners if o["entity"] == entry.entity and o["ident"] == entry.name]
            if len(matches) != 1:
                problems.append(_not_one(entry, spec.source, len(matches)))
                continue
            owner = matches[0]
            if owner["budget_id"] is None:
                created.append((entry, owner["id"], owner["name"]))
            elif owner["users_of_tier"] > 1:
                problems.append(f"{entry.where(spec.source)}: its limits live on budget tier "
                                f"{owner['budget_id']!r}, which {owner['users_of_tier'] - 1} other row(s) share; "
                                "declare that tier under budgets: instead")
            else:
                owner_tiers[owner["budget_id"]] = (entry, owner)
    if tier_ids or owner_tiers:
        rows = sqlfiles.run(conn, "budget/limits_budgets", {"idents": sorted(set(tier_ids) | set(owner_tiers))})
        found = {r["id"]: r for r in rows}
        for entry in by_section.get("budgets", []):
            if entry.name not in found:
                problems.append(_not_one(entry, spec.source, 0))
            else:
                claim("budget", found[entry.name], entry, ("budget", entry.name, None))
        for tier, (entry, owner) in owner_tiers.items():
            if tier in found:
                claim("budget", found[tier], entry, (owner["entity"], owner["id"], owner["name"]))
    if problems:
        raise InvalidSpec(problems, source=spec.source)

    changes: list[Change] = []
    pending: dict[str, list[_Target]] = {}
    for target in targets.values():
        _move_reset(target, now, policy)
        fields = _differences(target)
        if not fields:
            continue
        pending.setdefault(target.table, []).append(target)
        for entity, owner_id, name in target.owners:
            changes.append(Change(entity, owner_id, name, "limits", fields,
                                  via=target.id if entity != target.table else None))
    for table, rows in pending.items():
        name, identifiers = SET_LIMITS[table]
        sqlfiles.run(conn, name, _columns(rows, table), identifiers=identifiers)
    if created:
        changes.extend(_create_tiers(conn, created, now, policy))
    return changes


def _matches(row: Mapping[str, Any], entry: LimitEntry, section: str) -> bool:
    if section == "teams":
        return bool(row["id" if entry.identity == "id" else "name"] == entry.name)
    return bool(row["ident"] == entry.name)


def _not_one(entry: LimitEntry, source: str, count: int) -> str:
    what = {"key": "key", "user": "user", "team": "team", "org": "organization", "end_user": "end user",
            "tag": "tag", "budget": "budget tier"}[entry.entity]
    if count == 0:
        return f"{entry.where(source)}: no {what} with {entry.identity} {entry.name!r}"
    return f"{entry.where(source)}: {count} {what}s have {entry.identity} {entry.name!r}; it must name exactly one"


def _move_reset(target: _Target, now: datetime, policy: ResetPolicy) -> None:
    """A new budget_duration starts its window now: budget_reset_at is its next boundary."""
    duration = target.wanted["budget_duration"]
    if duration == target.current["budget_duration"]:
        return
    target.wanted["budget_reset_at"] = (
        None if duration is None else clock.utc_naive(durations.next_reset(duration, now, policy)))


def _differences(target: _Target) -> dict[str, tuple[Any, Any]]:
    fields = {}
    for name in (*LIMIT_FIELDS, "budget_reset_at"):
        old, new = target.current[name], target.wanted[name]
        if old != new:
            fields[name] = (_utc(old), _utc(new))
    return fields


def _columns(rows: Sequence[_Target], table: str) -> dict[str, list[Any]]:
    params: dict[str, list[Any]] = {"ids": [t.id for t in rows]}
    for name in (*LIMIT_FIELDS, "budget_reset_at"):
        if name == "soft_budget" and table in ("key", "user"):
            continue
        params[name] = [_float(t.wanted[name]) if name in ("max_budget", "soft_budget") else t.wanted[name]
                        for t in rows]
    return params


def _create_tiers(conn: psycopg.Connection, created: Sequence[tuple[LimitEntry, str, str | None]],
                  now: datetime, policy: ResetPolicy) -> list[Change]:
    rows = []
    for entry, owner_id, name in created:
        values = {f: entry.fields.get(f) for f in LIMIT_FIELDS}
        duration = values["budget_duration"]
        reset_at = clock.utc_naive(durations.next_reset(duration, now, policy)) if duration else None
        rows.append((entry, owner_id, name, uuids.v4(), values, reset_at))
    linked = {(r["entity"], r["owner_id"]) for r in sqlfiles.run(conn, "budget/create_owner_budgets", {
        "entities": [entry.entity for entry, *_ in rows], "owner_ids": [owner for _, owner, *_ in rows],
        "ids": [tier for *_, tier, _, _ in rows],
        **{f: [_float(values[f]) if f in ("max_budget", "soft_budget") else values[f] for *_, values, _ in rows]
           for f in LIMIT_FIELDS},
        "budget_reset_at": [reset_at for *_, reset_at in rows],
    })}
    changes = []
    for entry, owner_id, name, tier, values, reset_at in rows:
        if (entry.entity, owner_id) not in linked:
            continue
        fields = {"budget_id": (None, tier), **{f: (None, v) for f, v in values.items() if v is not None}}
        if reset_at is not None:
            fields["budget_reset_at"] = (None, _utc(reset_at))
        changes.append(Change(entry.entity, owner_id, name, "limits", fields, via=tier))
    return changes


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _utc(value: Any) -> Any:
    return clock.utc_aware(value) if isinstance(value, datetime) else value
