"""Finding users, teams, organizations and keys by the names people give them, one rule each.

A user is found by user_id, else sso_user_id, else email (case-insensitive; several users with one
email is ambiguous), as LiteLLM looks users up. A team or organization by id, else by an alias
exactly one of them has. A key by alias, token hash, a hash prefix of 8+ characters, or its raw key
(hashed before any query, never sent, printed or logged).

`Users` and `Groups` index rows already read (the planner's snapshot, a command's one-row read);
`find_user`, `find_group` and `find_key` read what one reference may name and apply the same rule
(common.identities: the rule itself, and the messages for a name that matches nothing, with the
closest names, or several rows). Every command resolves its flags and arguments here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import identities
from litellm_dbctl.common.keyrefs import hash_key, is_raw_key
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


def names(conn: psycopg.Connection, kind: str) -> list[str]:
    """Every name a reference to `kind` may use, for the closest-names hint of an unknown one."""
    return [r["name"] for r in sqlfiles.run(conn, "identity/names", {"kind": kind})]


def find_user(conn: psycopg.Connection, ref: str) -> dict[str, Any]:
    """The user a reference names (user_id, else sso_user_id, else email); identities.Unknown or
    identities.Ambiguous (exit 2) otherwise."""
    rows: list[dict[str, Any]] = sqlfiles.run(conn, "user/read_for_plan",
                                              {"ids": [ref], "sso_ids": [ref], "emails": [ref.lower()]})
    found = identities.choose("user", ref, identities.user_matches(rows, ref))
    if found is None:
        raise identities.Unknown("user", ref, names(conn, "user"))
    return next(r for r in rows if r["user_id"] == found.id)


def find_group(conn: psycopg.Connection, kind: str, ref: str) -> dict[str, Any]:
    """The team or organization (`kind` team|org) a reference names, by id, else by alias;
    identities.Unknown or identities.Ambiguous (exit 2) otherwise."""
    rows: list[dict[str, Any]] = sqlfiles.run(conn, "team/read_for_plan" if kind == "team" else "org/read_for_plan",
                                              {"ids": [ref], "aliases": [ref]})
    id_name, alias_name, _ = GROUP_KINDS[kind]
    found = identities.choose(kind, ref, identities.group_matches(rows, ref, id_name, alias_name))
    if found is None:
        raise identities.Unknown(kind, ref, names(conn, kind))
    return next(r for r in rows if r[id_name] == found.id)


def user_id(conn: psycopg.Connection, ref: str | None) -> str | None:
    """The user_id a reference names (None for None)."""
    return None if ref is None else str(find_user(conn, ref)["user_id"])


def group_id(conn: psycopg.Connection, kind: str, ref: str | None) -> str | None:
    """The team_id or organization_id a reference names (None for None)."""
    return None if ref is None else str(find_group(conn, kind, ref)[GROUP_KINDS[kind][0]])


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
    matches = [identities.Match(r["token"], how) for r in rows
               for how, hit in (("token", r["token"] == token),
                                ("key_alias", r["key_alias"] is not None and (
                                    hash_key(r["key_alias"]) == token if raw else r["key_alias"] == ref)),
                                ("prefix", prefix is not None and r["token"].startswith(prefix))) if hit]
    found = identities.choose("key", ref, matches)
    if found is None:
        raise identities.Unknown("key", ref, () if raw else names(conn, "key"))
    return next(r for r in rows if r["token"] == found.id)
