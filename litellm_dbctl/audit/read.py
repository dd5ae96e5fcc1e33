"""Reading LiteLLM_AuditLog: the rows dbctl (audit/trail.py) and LiteLLM's proxy write (§4.6).

LiteLLM json-encodes before_value / updated_values before Prisma stores them, so its rows hold a
JSON string that holds the object; dbctl's hold the object itself. Both are read as the object.
LiteLLM's `created` row of a key carries /key/generate's response, the raw key included: every
string that is a raw key is shown as LiteLLM's key_name (`sk-...abcd`), never whole.

Filters name tables as LiteLLM does or by the entity words of the rest of dbctl (`key`, `team`,
`end-user`, ...), and objects as every command names them (common.identities): a user by id, SSO
id or email, a team or organization by id or alias, a key by alias, token, token prefix or raw key
(hashed first), an end user by id or alias; deleted keys and teams too, and, for an object that is
gone, the object_id its audit rows carry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import identities
from litellm_dbctl.common.clock import utc_naive
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.common.keyrefs import describe_key, hash_key, is_raw_key, key_name
from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg

# LiteLLM's AUDIT_ACTIONS (proxy/_types.py); dbctl writes the first five.
ACTIONS = ("created", "updated", "deleted", "blocked", "unblocked", "rotated", "kill_switch_fired")
# The entity words of dbctl's options -> the table LiteLLM names in audit rows.
ENTITY_TABLES = {
    "key": "LiteLLM_VerificationToken", "user": "LiteLLM_UserTable", "team": "LiteLLM_TeamTable",
    "org": "LiteLLM_OrganizationTable", "end-user": "LiteLLM_EndUserTable",
    "team-member": "LiteLLM_TeamMembership", "org-member": "LiteLLM_OrganizationMembership",
    "budget": "LiteLLM_BudgetTable", "model": "LiteLLM_ProxyModelTable", "agent": "LiteLLM_AgentsTable",
}
# Every table a LiteLLM release (LitellmTableNames) or dbctl names in audit rows.
TABLES = tuple(dict.fromkeys([
    *ENTITY_TABLES.values(), "LiteLLM_ManagedFileTable", "LiteLLM_ToolTable", "LiteLLM_CacheConfig",
    "LiteLLM_ConfigOverrides", "LiteLLM_Config", "LiteLLM_SSOConfig", "LiteLLM_UISettings",
    "LiteLLM_SpendLogDelivery"]))
# The entity kinds an --object reference may name, and the table of each.
OBJECT_KINDS = {"user": "LiteLLM_UserTable", "team": "LiteLLM_TeamTable", "org": "LiteLLM_OrganizationTable",
                "key": "LiteLLM_VerificationToken", "end_user": "LiteLLM_EndUserTable"}
KEY_HASH_LENGTH, KEY_MIN_PREFIX, ID_MIN_PREFIX = 64, 8, 8


def split(values: Iterable[str] | None) -> list[str]:
    """Repeated and comma-separated option values, stripped, blanks dropped."""
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]


def tables(values: Iterable[str] | None) -> tuple[str, ...]:
    """--table values as LiteLLM table names: an entity word (`end-user` or `end_user`) or a table
    name in any case; anything else is InvalidInput naming the flag."""
    by_name = {name.lower(): name for name in TABLES}
    found = []
    for value in split(values):
        word = value.replace("_", "-").lower()
        word = "org" if word == "organization" else word
        table = ENTITY_TABLES.get(word) or by_name.get(value.lower())
        if table is None:
            raise InvalidInput(f"--table: unknown table {value[:60]!r}",
                               hint=f"one of {', '.join(ENTITY_TABLES)}, or a LiteLLM table name "
                                    f"({', '.join(TABLES)})")
        found.append(table)
    return tuple(dict.fromkeys(found))


def actions(values: Iterable[str] | None) -> tuple[str, ...]:
    """--action values, each one of LiteLLM's actions (InvalidInput naming the flag otherwise)."""
    found = []
    for value in split(values):
        if value.lower() not in ACTIONS:
            raise InvalidInput(f"--action: unknown action {value[:60]!r}", hint=f"one of {', '.join(ACTIONS)}")
        found.append(value.lower())
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class Filters:
    """What to read; empty or None: no filter. `objects` are references as typed; `since`/`until`
    aware UTC ([since, until))."""

    tables: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    id: str
    updated_at: datetime
    action: str
    table_name: str
    object_id: str
    object_name: str | None
    changed_by: str
    changed_by_api_key: str
    before_value: Any
    updated_values: Any
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (before, after), differing


def decoded(value: Any) -> Any:
    """A before/after value as the object it records: LiteLLM's JSON text in a JSON string is parsed
    (dbctl stores the object itself); raw keys anywhere in it are shown as key_name."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    return _hide_keys(value)


def _hide_keys(value: Any) -> Any:
    if isinstance(value, str):
        return key_name(value) if is_raw_key(value) else value
    if isinstance(value, dict):
        return {k: _hide_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_keys(v) for v in value]
    return value


def changes(before: Any, after: Any) -> dict[str, tuple[Any, Any]]:
    """The fields whose value differs, (before, after) each: of two objects, or of a created
    (nothing before) or deleted (nothing after) one; a non-object value as the field `(value)`."""
    old = before if isinstance(before, dict) else ({} if before is None else None)
    new = after if isinstance(after, dict) else ({} if after is None else None)
    if old is None or new is None:
        return {} if before == after else {"(value)": (before, after)}
    return {name: (old.get(name), new.get(name)) for name in dict.fromkeys([*old, *new])
            if old.get(name) != new.get(name)}


def _row(raw: Mapping[str, Any]) -> AuditRow:
    before, after = decoded(raw["before_value"]), decoded(raw["updated_values"])
    return AuditRow(raw["id"], raw["updated_at"], raw["action"], raw["table_name"], raw["object_id"],
                    raw["object_name"], raw["changed_by"], raw["changed_by_api_key"], before, after,
                    changes(before, after))


def objects(conn: psycopg.Connection, refs: Sequence[str], tables_: Sequence[str]) -> list[tuple[str, str]]:
    """The (table, id) pairs the references name, each read as every kind `tables_` allows (all
    kinds without a table filter): every kind it names counts. A reference naming no entity but
    equal to an audit row's object_id (an object since deleted) stands for itself in any table.
    InvalidInput (exit 2) with the closest names when it names nothing; Ambiguous when one kind's
    deciding way matches several rows."""
    kinds = [k for k, t in OBJECT_KINDS.items() if not tables_ or t in tables_ or
             (k in ("user", "team") and "LiteLLM_TeamMembership" in tables_) or
             (k in ("user", "org") and "LiteLLM_OrganizationMembership" in tables_)] or list(OBJECT_KINDS)
    pairs: list[tuple[str, str]] = []
    for ref in refs:
        rows = sqlfiles.run(conn, "audit/objects", _object_params(ref))
        found = []
        for kind in kinds:
            matches = [identities.Match(r["id"], r["how"]) for r in rows if r["kind"] == kind]
            chosen = identities.choose(kind, describe_key(ref) if is_raw_key(ref) else ref, matches)
            if chosen is not None:
                found.append((OBJECT_KINDS[kind], chosen.id))
        if not found:
            found = [("", r["id"]) for r in rows if r["kind"] == "audit"][:1]
        if not found:
            raise _unknown(conn, ref, kinds)
        pairs.extend(found)
    return list(dict.fromkeys(pairs))


def _object_params(ref: str) -> dict[str, Any]:
    """audit/objects' parameters: a raw key only as its hash."""
    if is_raw_key(ref):
        return {"token": hash_key(ref), "alias": None, "ref": None, "prefix": None}
    token = ref.lower()
    is_hex = all(c in "0123456789abcdef" for c in token)
    prefix = token if is_hex and KEY_MIN_PREFIX <= len(token) < KEY_HASH_LENGTH else None
    return {"token": token, "alias": ref, "ref": ref, "prefix": prefix}


def _unknown(conn: psycopg.Connection, ref: str, kinds: Sequence[str]) -> InvalidInput:
    nouns = [identities.NOUNS[k] for k in kinds]
    what = nouns[0] if len(nouns) == 1 else ", ".join(nouns[:-1]) + " or " + nouns[-1]
    names = [] if is_raw_key(ref) else [r["name"] for k in kinds
                                        for r in sqlfiles.run(conn, "identity/names", {"kind": k})]
    close = identities.closest(ref, names)
    return InvalidInput(f"--object: no {what} {identities.shown(ref)}",
                        hint=f"closest: {', '.join(map(repr, close))}" if close else
                        "no close match (an object is given as everywhere: a user by id, SSO id or email; a team, "
                        "organization or end user by id or alias; a key by alias, token, its first 8+ characters "
                        "or the raw key)")


def params(conn: psycopg.Connection, filters: Filters) -> dict[str, Any]:
    """The filter parameters of audit/list and audit/export (objects resolved here)."""
    pairs = objects(conn, filters.objects, filters.tables) if filters.objects else []
    return {"tables": list(filters.tables) or None, "actions": list(filters.actions) or None,
            "actors": list(filters.actors) or None,
            "since": utc_naive(filters.since) if filters.since else None,
            "until": utc_naive(filters.until) if filters.until else None,
            "object_tables": [t for t, _ in pairs] or None, "object_ids": [i for _, i in pairs] or None}


def list_rows(conn: psycopg.Connection, filters: Filters, *, limit: int) -> list[AuditRow]:
    """The matching rows, newest first, at most `limit`."""
    return [_row(r) for r in sqlfiles.run(conn, "audit/list", {**params(conn, filters), "limit": limit})]


def stream(conn: psycopg.Connection, filters: Filters) -> Iterator[AuditRow]:
    """Every matching row, oldest first, through a server-side cursor (flat memory)."""
    query = params(conn, filters)
    return (_row(r) for r in sqlfiles.stream(conn, "audit/export", query))


def show(conn: psycopg.Connection, ref: str) -> AuditRow:
    """The row whose id is `ref`, or the one whose id starts with it (8+ characters); InvalidInput
    (exit 2) when none or several do."""
    text = ref.strip().lower()
    prefix = text if len(text) >= ID_MIN_PREFIX else None
    rows = sqlfiles.run(conn, "audit/show", {"id": text, "prefix": prefix})
    if not rows:
        raise InvalidInput(f"no audit row {ref[:60]!r}", hint="give an id `audit list` shows (or its first 8+ "
                                                              "characters)")
    if len(rows) > 1 and rows[0]["id"] != text:
        raise InvalidInput(f"{ref[:60]!r} starts the id of several audit rows", hint="give more of the id")
    return _row(rows[0])
