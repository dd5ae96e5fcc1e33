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
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litellm_dbctl.budget.records import Change
from litellm_dbctl.common import checks, clock, durations, identities, uuids
from litellm_dbctl.common.durations import ResetPolicy
from litellm_dbctl.common.errors import InvalidInput, InvalidSpec
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.provision import lookup

if TYPE_CHECKING:
    import psycopg

LIMIT_FIELDS = ("max_budget", "soft_budget", "budget_duration", "tpm_limit", "rpm_limit")


@dataclass(frozen=True)
class Section:
    """A top-level list of a budgets file: which entities, named how, holding which limits."""

    entity: str
    identities: tuple[str, ...]  # identity fields, the provisioning spec's names (any one; resolved alike)
    fields: tuple[str, ...]
    on_tier: bool = False  # limits live on the linked LiteLLM_BudgetTable row
    old: Mapping[str, str] = field(default_factory=dict)  # deprecated identity field -> its new name


SECTIONS = {
    "keys": Section("key", ("key_alias",), ("max_budget", "budget_duration", "tpm_limit", "rpm_limit"),
                    old={"alias": "key_alias"}),
    "users": Section("user", ("user_id", "user_email", "sso_user_id"),
                     ("max_budget", "budget_duration", "tpm_limit", "rpm_limit"), old={"id": "user_id"}),
    "teams": Section("team", ("team_id", "team_alias"), LIMIT_FIELDS, old={"id": "team_id", "alias": "team_alias"}),
    "organizations": Section("org", ("organization_id", "organization_alias"), LIMIT_FIELDS, on_tier=True,
                             old={"id": "organization_id", "alias": "organization_alias"}),
    "end_users": Section("end_user", ("user_id", "alias"), LIMIT_FIELDS, on_tier=True, old={"id": "user_id"}),
    "tags": Section("tag", ("name",), LIMIT_FIELDS, on_tier=True),
    "budgets": Section("budget", ("budget_id",), LIMIT_FIELDS, old={"id": "budget_id"}),
}
OLD_SECTIONS = {"orgs": "organizations"}  # deprecated section names, accepted for one release
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
    identity: str  # which identity field the entry used, as written
    name: str  # its value: a reference, resolved as on the command line (common.identities)
    fields: Mapping[str, Any]  # only the limits the entry declares (None clears one)
    line: int  # of its identity field
    index: int = 0  # its place in the section

    @property
    def entity(self) -> str:
        return SECTIONS[self.section].entity

    def where(self, source: str) -> str:
        """`file:line: section[i].field`, the identity field, for a message about the entity it names."""
        return f"{source}:{self.line}: {self.section}[{self.index}].{self.identity}"


@dataclass(frozen=True)
class LimitsSpec:
    source: str
    entries: tuple[LimitEntry, ...]
    deprecated: tuple[str, ...] = ()  # `line N: old -> new` for each deprecated name the file uses

    def deprecation(self) -> str | None:
        """One line on the deprecated names the file uses (None when it uses none)."""
        if not self.deprecated:
            return None
        more = f" and {len(self.deprecated) - 1} more" if len(self.deprecated) > 1 else ""
        return (f"{self.source} uses deprecated names ({self.deprecated[0]}{more}): they are accepted until the "
                "next release; use the provisioning spec's names")


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
    deprecated: list[str] = []
    entries: list[LimitEntry] = []
    seen_sections: set[str] = set()
    for key_node, value_node in root.value:
        section = _scalar(value(key_node))
        where = f"{source}:{_line(key_node)}"
        if section in OLD_SECTIONS:
            deprecated.append(f"line {_line(key_node)}: {section} -> {OLD_SECTIONS[section]}")
            section = OLD_SECTIONS[section]
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
            entry = _entry(section, index, item, source, policy, value, problems, deprecated)
            if entry is not None:
                entries.append(entry)
    seen: dict[tuple[str, str, str], LimitEntry] = {}
    for entry in entries:
        key = (entry.section, entry.identity, entry.name)
        if key in seen:
            problems.append(f"{entry.where(source)}: {entry.name!r} named twice (first at line {seen[key].line})")
        seen.setdefault(key, entry)
    if problems:
        raise InvalidSpec(problems, source=source)
    return LimitsSpec(source, tuple(entries), tuple(deprecated))


def _entry(section: str, index: int, node: Any, source: str, policy: ResetPolicy, value: Callable[[Any], Any],
           problems: list[str], deprecated: list[str]) -> LimitEntry | None:
    """One entry of a section, or None after adding its problems (`source:line: field: message`)."""
    spec = SECTIONS[section]
    where = f"{source}:{_line(node)}: {section}[{index}]"
    if node.id != "mapping":
        problems.append(f"{where}: expected a mapping like {{{spec.identities[0]}: ..., max_budget: ...}}")
        return None
    identity: tuple[str, str, int] | None = None  # field, value, line
    identity_given = False  # an unusable one is reported as such, not also as missing
    fields: dict[str, Any] = {}
    before = len(problems)
    for key_node, value_node in node.value:
        name = _scalar(value(key_node))
        here = f"{source}:{_line(key_node)}: {section}[{index}].{name}"
        given = value(value_node)
        if name in spec.identities or name in spec.old:
            identity_given = True
            if name in spec.old:
                deprecated.append(f"line {_line(key_node)}: {section}[{index}].{name} -> {spec.old[name]}")
            if identity is not None:
                problems.append(f"{here}: give one of {' or '.join(spec.identities)}, not several")
                continue
            try:
                identity = (name, checks.name(given), _line(key_node))
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
    return LimitEntry(section, identity[0], identity[1], fields, identity[2], index)


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
            problems.append(f"{entry.where(spec.source)}: {entry.name!r} is the same {table} row as line {first.line} "
                            f"({first.section}[{first.index}].{first.identity} {first.name!r}); declare it once")
            return
        declared_by[key] = entry
        current = {f: row[f] for f in LIMIT_FIELDS}
        current["budget_reset_at"] = row["budget_reset_at"]
        targets[key] = _Target(table, row["id"], current, {**current, **entry.fields}, [owner])

    by_section: dict[str, list[LimitEntry]] = {}
    for entry in spec.entries:
        by_section.setdefault(entry.section, []).append(entry)

    names = _Names(conn, spec.source, problems)
    for section, table in (("keys", "key"), ("users", "user"), ("teams", "team")):
        entries = by_section.get(section, [])
        if not entries:
            continue
        refs = sorted({e.name for e in entries})
        params: dict[str, Any] = {"refs": refs} | ({"emails": [r.lower() for r in refs]} if section == "users" else {})
        rows = sqlfiles.run(conn, f"budget/limits_{section}", params)
        for entry in entries:
            row = names.one(entry, rows)
            if row is not None:
                claim(table, row, entry, (table, row["id"], row["name"]))

    owner_entries = [e for s in ("organizations", "end_users", "tags") for e in by_section.get(s, [])]
    tier_ids = [e.name for e in by_section.get("budgets", [])]
    owner_tiers: dict[str, tuple[LimitEntry, Mapping[str, Any]]] = {}
    if owner_entries:
        owners = sqlfiles.run(conn, "budget/limits_owners", {
            "org_refs": [e.name for e in owner_entries if e.section == "organizations"],
            "end_user_refs": [e.name for e in owner_entries if e.section == "end_users"],
            "tag_names": [e.name for e in owner_entries if e.section == "tags"],
        })
        for entry in owner_entries:
            owner = names.one(entry, [o for o in owners if o["entity"] == entry.entity])
            if owner is None:
                continue
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
            row = names.one(entry, [found[entry.name]] if entry.name in found else [])
            if row is not None:
                claim("budget", row, entry, ("budget", entry.name, None))
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


class _Names:
    """Resolves the entries' references as every command does (common.identities): a problem
    naming file:line and field for a name that matches nothing (with the closest names) or several."""

    def __init__(self, conn: psycopg.Connection, source: str, problems: list[str]) -> None:
        self.conn, self.source, self.problems = conn, source, problems
        self.known: dict[str, list[str]] = {}  # kind -> every name, read once for the hints

    def one(self, entry: LimitEntry, rows: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        """The row `entry` names among `rows` (every row its reference may match), or None after
        adding the problem."""
        kind, ref = entry.entity, entry.name
        if kind not in identities.PRECEDENCE:  # tags and budget tiers: by their name alone
            found = [r for r in rows if r["id"] == ref]
            if not found:
                self.problems.append(f"{entry.where(self.source)}: no {_WHAT[kind]} {ref!r}")
            return found[0] if found else None
        try:
            match = identities.choose(kind, ref, _matches(kind, rows, ref))
        except identities.Ambiguous as exc:
            self.problems.append(f"{entry.where(self.source)}: {exc.message} ({exc.hint})")
            return None
        if match is None:
            if kind not in self.known:
                self.known[kind] = lookup.names(self.conn, kind)
            unknown = identities.Unknown(kind, ref, self.known[kind])
            close = f" (closest: {', '.join(map(repr, unknown.closest))})" if unknown.closest else ""
            self.problems.append(f"{entry.where(self.source)}: {unknown.message}{close}")
            return None
        return next(r for r in rows if r["id"] == match.id)


_WHAT = {"tag": "tag", "budget": "budget tier"}


def _matches(kind: str, rows: Sequence[Mapping[str, Any]], ref: str) -> list[identities.Match]:
    """How `ref` matches each row of budget/limits_* (`id`, `name`; users also their three names)."""
    if kind == "user":
        return identities.user_matches(rows, ref)
    if kind == "key":
        return [identities.Match(r["id"], "key_alias") for r in rows if r["name"] == ref]
    return identities.group_matches(rows, ref, "id", "name")


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
