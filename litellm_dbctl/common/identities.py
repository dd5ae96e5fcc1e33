"""How a user, team, organization, key or end user is named, as one rule over the rows a reference
matched: no I/O, so every command, file and query that resolves a name applies the same rule and
says the same thing when it fails (DESIGN.md, "Identities, one vocabulary").

A user is its user_id, else its SSO id, else its email (case-insensitive); a team, organization or
end user its id, else its alias; a key its token (SHA-256 of the raw key, which callers hash first),
else its alias, else a token prefix of 8+ hex characters. The first way that matches decides; two
rows matched that way is ambiguous (an email two users share, an alias two teams share).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.common.keyrefs import describe_key, is_raw_key

NOUNS = {"user": "user", "team": "team", "org": "organization", "key": "key", "end_user": "end user"}
GIVEN_BY = {"user": "user_id, SSO id or email", "team": "id or alias", "org": "id or alias",
            "key": "alias, token hash, its first 8+ characters or the raw key", "end_user": "id or alias"}
# The ways a reference matches a row, per kind, in the order they are tried.
PRECEDENCE = {"user": ("user_id", "sso_user_id", "user_email"), "team": ("id", "alias"), "org": ("id", "alias"),
              "key": ("token", "key_alias", "key_name", "prefix"), "end_user": ("id", "alias")}
CLOSEST = 5  # names a hint offers
CUTOFF = 0.6  # difflib's similarity a name needs to be offered


@dataclass(frozen=True)
class Match:
    """One row a reference matched: its id, and the way it matched (one of PRECEDENCE[kind])."""

    id: str
    how: str
    deleted: bool = False  # a deleted key or team (spend reports still name them)


class Ambiguous(InvalidInput):
    """A reference that names several rows the same way; the message names every id."""

    def __init__(self, kind: str, ref: str, how: str, ids: Sequence[str]) -> None:
        self.kind, self.ref, self.how, self.ids = kind, ref, how, tuple(ids)
        named = [i[:12] + "…" if kind == "key" else i for i in self.ids]  # a token shortened as key list shows it
        super().__init__(f"{shown(ref)} is the {how.replace('_', ' ')} of {len(ids)} {NOUNS[kind]}s: "
                         f"{', '.join(named)}", hint="give its whole token (key list --full-hash)" if kind == "key"
                         else f"give the {NOUNS[kind]}'s id")


class Unknown(InvalidInput):
    """A reference that names nothing: `no team 'Reserch'`, the closest names as the hint."""

    def __init__(self, kind: str, ref: str, names: Iterable[str] = ()) -> None:
        self.kind, self.ref = kind, ref
        self.closest = () if is_raw_key(ref) else tuple(closest(ref, names))
        super().__init__(f"no {NOUNS[kind]} {shown(ref)}", hint=self.suggestion())

    def suggestion(self) -> str:
        noun = NOUNS[self.kind]
        given = f"{'an' if noun[0] in 'aeio' else 'a'} {noun} is given by {GIVEN_BY[self.kind]}"
        if self.closest:
            return f"closest: {', '.join(map(repr, self.closest))} ({given})"
        return f"no close match ({given})"


def shown(ref: str) -> str:
    """A reference fit for a message: quoted, a raw key never echoed."""
    return describe_key(ref)


def choose(kind: str, ref: str, matches: Iterable[Match]) -> Match | None:
    """The one row `ref` names among `matches` (every row it matched, any way), by PRECEDENCE;
    None when it matched nothing; Ambiguous when the deciding way matched several rows."""
    found = list(matches)
    for how in PRECEDENCE[kind]:
        rows = {m.id: m for m in found if m.how == how}
        if len(rows) == 1:
            return next(iter(rows.values()))
        if rows:
            raise Ambiguous(kind, ref, how, sorted(rows))
    return None


def user_matches(rows: Iterable[Mapping[str, Any]], ref: str) -> list[Match]:
    """The ways `ref` matches each user row (user_id, sso_user_id, user_email case-insensitively)."""
    folded = ref.lower()
    return [Match(r["user_id"], how) for r in rows
            for how, hit in (("user_id", r["user_id"] == ref), ("sso_user_id", r.get("sso_user_id") == ref),
                             ("user_email", (r.get("user_email") or "").lower() == folded)) if hit]


def group_matches(rows: Iterable[Mapping[str, Any]], ref: str, id_name: str, alias_name: str) -> list[Match]:
    """The ways `ref` matches each team, organization or end-user row: its id, its alias."""
    return [Match(r[id_name], how) for r in rows
            for how, hit in (("id", r[id_name] == ref), ("alias", r.get(alias_name) == ref)) if hit]


def closest(ref: str, names: Iterable[str], n: int = CLOSEST) -> list[str]:
    """The names most like `ref`, compared case-insensitively, best first, as they are spelt (both
    'Research' and 'research' when both exist)."""
    folded: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        if name:
            folded.setdefault(name.lower(), []).append(name)
    near = difflib.get_close_matches(ref.lower(), list(folded), n=n, cutoff=CUTOFF)
    return [name for key in near for name in sorted(folded[key])][:n]
