"""Names and ids in `dbctl spend`: the filters as typed (aliases, emails, key names or ids) resolved
to ids, and the ids of a result labelled for people (never a bare hash).

A user, team, organization, key or end user is found as every command finds one (common.identities:
one row, or exit 2 naming the closest names or every row an ambiguous name matches), deleted keys
and teams included; another name that matches nothing is refused with the closest names too
(InvalidInput, exit 2). NULL and '' ids are one group, shown as `(no user)` and the like.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import identities
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.common.keyrefs import describe_key, hash_key, is_raw_key
from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class Filters:
    """What was asked for, as typed: names, aliases, emails or ids. Empty: no filter."""

    keys: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    orgs: tuple[str, ...] = ()
    end_users: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()


# filter field -> (kind in the queries, option, what it names)
FILTER_KINDS = {
    "keys": ("key", "--key", "key (alias, key_name, hash, hash prefix or raw key)"),
    "users": ("user", "--user", "user (email or id)"),
    "teams": ("team", "--team", "team (alias or id)"),
    "orgs": ("org", "--org", "organization (alias or id)"),
    "end_users": ("end_user", "--end-user", "end user (id or alias)"),
    "agents": ("agent", "--agent", "agent (name or id)"),
    "tags": ("tag", "--tag", "tag in the daily tag table"),
    "models": ("model", "--model", "model in the daily tables"),
    "providers": ("provider", "--provider", "provider in the daily tables"),
}


@dataclass(frozen=True)
class Resolved:
    """Filters as ids (None: no filter), plus how each typed value resolved, for the report."""

    keys: tuple[str, ...] | None = None
    users: tuple[str, ...] | None = None
    teams: tuple[str, ...] | None = None
    orgs: tuple[str, ...] | None = None
    end_users: tuple[str, ...] | None = None
    agents: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None
    providers: tuple[str, ...] | None = None
    matches: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)  # field -> value -> ids

    def params(self) -> dict[str, list[str] | None]:
        return {f.name: (list(v) if v is not None else None)
                for f in fields(self) if f.name != "matches" for v in [getattr(self, f.name)]}


def resolve(conn: psycopg.Connection, filters: Filters) -> Resolved:
    """Ids for every typed value; InvalidInput (exit 2) naming close matches when one matches nothing."""
    asked = {name: tuple(dict.fromkeys(getattr(filters, name))) for name in FILTER_KINDS}
    if not any(asked.values()):
        return Resolved()
    # A raw key is hashed here, before any query, and shown as sk-…abcd: never sent, printed or logged.
    shown = {hash_key(v): describe_key(v) for v in asked["keys"] if is_raw_key(v)}
    asked["keys"] = tuple(dict.fromkeys(hash_key(v) if is_raw_key(v) else v for v in asked["keys"]))
    params = {name: list(values) or None for name, values in asked.items()}
    params["keys"] = [v for v in asked["keys"] if v not in shown] or None
    params["raw_keys"] = list(shown) or None
    rows = sqlfiles.run(conn, "spend/resolve", params)
    found: dict[str, dict[str, list[identities.Match]]] = {name: {} for name in FILTER_KINDS}
    by_kind = {kind: name for name, (kind, _, _) in FILTER_KINDS.items()}
    for row in rows:
        found[by_kind[row["kind"]]].setdefault(row["value"], []).append(
            identities.Match(row["id"], row["how"], row["deleted"]))
    problems = []
    for name, values in asked.items():
        kind, option, noun = FILTER_KINDS[name]
        if kind in identities.PRECEDENCE:  # a user, team, org, key or end user: one row, as everywhere
            for value in values:
                ref = shown.get(value, value)
                chosen = identities.choose(kind, ref, found[name].get(value, ()))
                if chosen is None:
                    raise identities.Unknown(kind, ref, () if value in shown else _candidates(conn, kind))
                found[name][value] = [chosen]
            continue
        missing = [v for v in values if v not in found[name]]
        if missing:
            candidates = _candidates(conn, kind)
            for value in missing:
                problems.append(f"{option} {value!r} matches no {noun}" + _suggest(value, candidates))
    if problems:
        raise InvalidInput("; ".join(problems))
    ids = {name: tuple(dict.fromkeys(m.id for v in values for m in found[name][v])) if values else None
           for name, values in asked.items()}
    matches = {name: {shown.get(v, v): tuple(dict.fromkeys(m.id for m in found[name][v])) for v in values}
               for name, values in asked.items() if values}
    return Resolved(**ids, matches=matches)


def _candidates(conn: psycopg.Connection, kind: str) -> list[str]:
    return [r["name"] for r in sqlfiles.run(conn, "spend/candidates", {"kind": kind})]


def _suggest(value: str, candidates: Sequence[str]) -> str:
    folded: dict[str, str] = {}
    for candidate in candidates:
        folded.setdefault(candidate.lower(), candidate)
    close = difflib.get_close_matches(value.lower(), list(folded), n=5, cutoff=0.6)
    return f" (did you mean {', '.join(repr(folded[c]) for c in close)}?)" if close else " (no close match)"


@dataclass(frozen=True)
class Label:
    """How one id is shown: never a bare hash."""

    kind: str  # key, user, team, ... (report.DIMENSIONS)
    id: str
    label: str  # what a human reads
    name: str | None = None  # key alias, user email, team/org/end-user alias, agent name
    detail: str | None = None  # key_name for keys, user alias for users
    deleted: bool = False


_EMPTY = {"key": "(no key)", "user": "(no user)", "team": "(no team)", "org": "(no organization)",
          "end-user": "(no end user)", "agent": "(no agent)", "model": "(no model)",
          "provider": "(no provider)", "tag": '""'}
_LABELLED = {"key": "keys", "user": "users", "team": "teams", "org": "orgs", "end-user": "end_users",
             "agent": "agents"}


def labels_for(conn: psycopg.Connection, kind: str, ids: Iterable[str]) -> dict[str, Label]:
    """A Label for each id of one dimension: keys by alias and key_name, users by email, and so on."""
    return labels_many(conn, {kind: ids})[kind]


def labels_many(conn: psycopg.Connection, wanted: Mapping[str, Iterable[str]]) -> dict[str, dict[str, Label]]:
    """Labels for several dimensions in one round trip."""
    wanted = {kind: list(dict.fromkeys(ids)) for kind, ids in wanted.items()}
    params: dict[str, list[str] | None] = dict.fromkeys(_LABELLED.values())
    for kind, ids in wanted.items():
        if kind in _LABELLED and any(ids):
            params[_LABELLED[kind]] = [i for i in ids if i]
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    if any(v for v in params.values()):
        for row in sqlfiles.run(conn, "spend/labels", params):
            found[(row["kind"].replace("_", "-"), row["id"])] = row
    return {kind: {i: _label(kind, i, found.get((kind, i))) for i in ids} for kind, ids in wanted.items()}


def _label(kind: str, id_: str, row: Mapping[str, Any] | None) -> Label:
    if id_ == "":
        return Label(kind, id_, _EMPTY[kind])
    if kind not in _LABELLED:
        return Label(kind, id_, id_)
    name = row["label"] if row else None
    detail = row["detail"] if row else None
    deleted = bool(row and row["deleted"])
    if kind == "key":
        if row is None:
            text = f"(unknown key, hash {id_[:10]}…)"
        elif name and detail:
            text = f"{name} ({detail})"
        else:
            text = name or detail or f"(key without alias or key_name, hash {id_[:10]}…)"
    elif kind == "user":
        text = name or detail or id_
    elif kind == "end-user":
        text = f"{name} ({id_})" if name else id_
    else:
        text = name or id_
    return Label(kind, id_, text + (" (deleted)" if deleted else ""), name, detail, deleted)


def filter_labels(conn: psycopg.Connection, resolved: Resolved) -> dict[str, dict[str, tuple[Label, ...]]]:
    """For the report: each filter value with the labelled ids it matched."""
    kinds = {name: FILTER_KINDS[name][0].replace("_", "-") for name in resolved.matches}
    labels = labels_many(conn, {kinds[name]: [i for ids in values.values() for i in ids]
                                for name, values in resolved.matches.items()})
    return {FILTER_KINDS[name][1].lstrip("-"): {value: tuple(labels[kinds[name]][i] for i in ids)
                                                for value, ids in values.items()}
            for name, values in resolved.matches.items()}
