"""Finding users, teams, organizations and keys by the names people give them, one rule each.

A user is found by user_id, else sso_user_id, else email (case-insensitive; several users with one
email is ambiguous), as LiteLLM looks users up. A team or organization by id, else by an alias
exactly one of them has. A key by alias, token hash, a hash prefix of 8+ characters, or its raw key
(hashed before any query, never sent, printed or logged).

`Users` and `Groups` index rows already read (the planner's snapshot, a command's one-row read);
`find_user`, `find_group` and `find_key` read what one reference may name and apply the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.common.keyrefs import describe_key, hash_key, is_raw_key
from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg

Row = Mapping[str, Any]
KEY_HASH_LENGTH = 64
KEY_MIN_PREFIX = 8
GROUP_KINDS = {"team": ("team_id", "team_alias", "team"),
               "org": ("organization_id", "organization_alias", "organization")}


class Ambiguous(Exception):
    """A reference that names more than one row (an email several users share)."""

    def __init__(self, rows: Sequence[Row]) -> None:
        super().__init__(len(rows))
        self.rows = rows


def grouped(rows: Iterable[Row], column: str) -> dict[Any, tuple[Row, ...]]:
    """Rows by the value of `column` (rows where it is NULL left out)."""
    out: dict[Any, list[Row]] = {}
    for row in rows:
        value = row[column]
        if value is not None:
            out.setdefault(value, []).append(row)
    return {value: tuple(found) for value, found in out.items()}


@dataclass(frozen=True)
class Users:
    """Users read from the database, by user_id, sso_user_id and lower-cased email."""

    by_id: Mapping[str, Row] = field(default_factory=dict)
    by_sso: Mapping[str, Row] = field(default_factory=dict)
    by_email: Mapping[str, tuple[Row, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Sequence[Row]) -> Users:
        by_email: dict[str, list[Row]] = {}
        for row in rows:
            if row["user_email"]:
                by_email.setdefault(row["user_email"].lower(), []).append(row)
        return cls({r["user_id"]: r for r in rows}, {r["sso_user_id"]: r for r in rows if r["sso_user_id"]},
                   {email: tuple(found) for email, found in by_email.items()})

    def match(self, user_id: str | None, sso_user_id: str | None, email: str | None) -> tuple[Row, str] | None:
        """The user these name, and the field that found it: user_id, else sso_user_id, else email
        (case-insensitive). Ambiguous when the email is several users'."""
        if user_id:
            row = self.by_id.get(user_id)
            if row is not None:
                return row, "user_id"
        if sso_user_id:
            row = self.by_sso.get(sso_user_id)
            if row is not None:
                return row, "sso_user_id"
        if email:
            rows = self.by_email.get(email.lower())
            if rows:
                if len(rows) > 1:
                    raise Ambiguous(rows)
                return rows[0], "user_email"
        return None


@dataclass(frozen=True)
class Groups:
    """Teams or organizations read from the database, by id and by alias."""

    kind: str  # "team" | "org"
    by_id: Mapping[str, Row] = field(default_factory=dict)
    by_alias: Mapping[str, tuple[Row, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, kind: str, rows: Sequence[Row]) -> Groups:
        id_name, alias_name, _ = GROUP_KINDS[kind]
        return cls(kind, {r[id_name]: r for r in rows}, grouped(rows, alias_name))

    @property
    def id_name(self) -> str:
        return GROUP_KINDS[self.kind][0]

    @property
    def what(self) -> str:
        """The word for one in messages: team, organization."""
        return GROUP_KINDS[self.kind][2]

    def find(self, ref: str) -> Row | None:
        """The row `ref` names: by id, else by an alias exactly one row has."""
        row = self.by_id.get(ref)
        if row is not None:
            return row
        rows = self.by_alias.get(ref, ())
        return rows[0] if len(rows) == 1 else None

    def ids(self, rows: Iterable[Row]) -> str:
        return ", ".join(sorted(r[self.id_name] for r in rows))


def find_user(conn: psycopg.Connection, ref: str) -> dict[str, Any]:
    """The user a reference names (user_id, sso_user_id or email); InvalidInput otherwise."""
    rows: list[dict[str, Any]] = sqlfiles.run(conn, "user/read_for_plan",
                                              {"ids": [ref], "sso_ids": [ref], "emails": [ref.lower()]})
    try:
        found = Users.of(rows).match(ref, ref, ref)
    except Ambiguous as exc:
        raise InvalidInput(f"email {ref!r} matches {len(exc.rows)} users: "
                           f"{', '.join(sorted(r['user_id'] for r in exc.rows))}; give the user_id") from None
    if found is None:
        raise InvalidInput(f"no user {ref!r} (by user_id, sso_user_id or email)")
    return dict(found[0])


def find_group(conn: psycopg.Connection, kind: str, ref: str) -> dict[str, Any]:
    """The team or organization (`kind` team|org) a reference names, by id or alias; InvalidInput otherwise."""
    rows: list[dict[str, Any]] = sqlfiles.run(conn, "team/read_for_plan" if kind == "team" else "org/read_for_plan",
                                              {"ids": [ref], "aliases": [ref]})
    groups = Groups.of(kind, rows)
    row = groups.find(ref)
    if row is not None:
        return dict(row)
    if not rows:
        raise InvalidInput(f"no {groups.what} {ref!r} (by id or alias)")
    raise InvalidInput(f"{groups.what} alias {ref!r} matches {len(rows)}: {groups.ids(rows)}")


def find_key(conn: psycopg.Connection, ref: str) -> dict[str, Any]:
    """The one key `ref` names: a raw key (hashed here, before any query), a token, a token prefix
    or an alias. A raw key is never sent: an alias that could equal it is compared by its hash."""
    raw = is_raw_key(ref)
    token = hash_key(ref) if raw else ref.lower()
    is_hex = all(c in "0123456789abcdef" for c in token)
    prefix = token if is_hex and KEY_MIN_PREFIX <= len(token) < KEY_HASH_LENGTH else None
    rows: list[dict[str, Any]] = sqlfiles.run(conn, "key/find", {"token": token, "alias": None if raw else ref,
                                                                 "alias_sha256": token if raw else None,
                                                                 "prefix": prefix})
    if not rows:
        raise InvalidInput(f"no key {describe_key(ref)} (give an alias, a token or its first {KEY_MIN_PREFIX}+ "
                           "characters, or the raw key)")
    exact = [r for r in rows if r["token"] == token] or [r for r in rows if r["key_alias"] == ref]
    if len(exact) == 1:
        return exact[0]
    if len(rows) == 1:
        return rows[0]
    names = ", ".join(f"{r['token'][:12]}… ({r['key_alias'] or r['key_name']})" for r in rows[:5])
    raise InvalidInput(f"{describe_key(ref)} matches {len(rows)} keys: {names}")
