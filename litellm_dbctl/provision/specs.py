"""Provisioning specs: the organizations, teams, users and keys an operator wants, validated whole.

A spec comes from a YAML/JSON file (sections `budgets`, `organizations`, `teams`, `users`, `keys`,
shaped like litellm-as-code's spec where they overlap; its sections for models, credentials,
guardrails and policies are skipped with a warning each, so its files load as they are), a users-only file
(YAML/JSON list or CSV) or command-line flags. Every problem is collected with `file:line` and the
field before anything touches the database; `load` raises `InvalidSpec` listing all of them.

YAML is read by `yamldoc` (libyaml): every value keeps its line. A file is parsed as it is read,
and its `users` are built one at a time (`yamldoc.entries`): each user's located mapping is dropped
once its records are made, so a 50 MB spec never stands in memory as text or as a document tree.
The records are `spec_records`', the field checks `spec_fields`', the merging of members into
users `spec_builder`'s.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Optional

from litellm_dbctl.common import checks, yamldoc
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.common.yamldoc import LMap, LSeq
from litellm_dbctl.provision import spec_fields
from litellm_dbctl.provision.spec_builder import Builder
from litellm_dbctl.provision.spec_fields import ORG_ROLES, TEAM_ROLES, USER_FIELDS, USER_KEYS
from litellm_dbctl.provision.spec_records import Loc, Membership, Spec, UserSpec

SECTIONS = ("budgets", "organizations", "teams", "users", "keys")
SECTION_ALIASES = {"virtual_keys": "keys"}  # litellm-as-code's name for the keys section
IGNORED_SECTIONS = ("config",)  # litellm-as-code accepts and ignores it; so does dbctl
# litellm-as-code's sections for what LiteLLM keeps outside the rows dbctl provisions (its model,
# credential, guardrail and policy tables, written through the proxy's API): skipped, one warning each.
SKIPPED_SECTIONS = {"credentials": "credentials", "models": "models", "guardrails": "guardrails",
                    "policies": "guardrail policies"}


def read_text(path: str) -> tuple[str, str]:
    """(text, source label) of PATH, or of stdin for `-`."""
    if path == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        return Path(path).read_text(encoding="utf-8"), path
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read: {exc}") from None


# -- entry points ------------------------------------------------------------------------------


def load(path: str, *, defer: bool = False, chunk: int | None = None) -> Spec:
    """A full spec file (`-` for stdin): sections budgets, organizations, teams, users, keys. With `chunk`, its
    users are sealed `chunk` at a time as they are read (Spec.user_chunks gives them back)."""
    with _opened(path) as (stream, source):
        return _read(yamldoc.entries(stream, source, lazy=("users",)), source, defer=defer, chunk=chunk)


def from_text(text: str, source: str, *, defer: bool = False) -> Spec:
    return _read(yamldoc.entries(text, source, lazy=("users",)), source, defer=defer)


@contextmanager
def _opened(path: str) -> Iterator[tuple[IO[str], str]]:
    """PATH (stdin for `-`) open for reading as it is parsed: a 50 MB spec is never one str."""
    if path == "-":
        yield sys.stdin, "<stdin>"
        return
    try:
        stream = open(path, encoding="utf-8")  # noqa: SIM115 - closed below, after the generator using it
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc}") from None
    with stream:
        yield stream, path


Entries = Iterator[tuple[Optional[str], int, Any]]


def _read(entries: Entries, source: str, *, defer: bool, users_file: bool = False, chunk: int | None = None) -> Spec:
    """The spec of a document's top-level entries. `users` is built item by item as it is read
    (each entry's LMap dropped once its records are made); the other sections, small in practice,
    are kept until the end, so that team and org members find the users declared in the file
    wherever `users` is written. A `users_file` is a list of users, or a mapping holding only `users`."""
    builder = Builder(source, chunk)
    p = builder.problems
    sections: dict[str, tuple[str, int, Any]] = {}
    for given, line, value in entries:
        if given is not None:
            key = given
        elif value is None:
            continue
        elif users_file and isinstance(value, (LSeq, yamldoc.Items)):
            key = "users"
        elif users_file:
            p.add(1, "users", "expected a list of users (CSV: a .csv file name, or --format csv)")
            continue
        else:
            p.add(getattr(value, "line", 1), "spec", "expected a mapping with sections " + ", ".join(SECTIONS))
            p.raise_if_any()
            continue
        if users_file and key != "users":
            raise InvalidInput(f"{source}:{line}: {key}: a users file holds only `users`; "
                               "use `dbctl provision apply` for a full spec")
        name = SECTION_ALIASES.get(key, key)
        if key in IGNORED_SECTIONS:
            continue
        if key in SKIPPED_SECTIONS:
            builder.warnings.append(f"{source}:{line}: {key}: section skipped: dbctl does not manage "
                                    f"{SKIPPED_SECTIONS[key]} (apply it with litellm-as-code or the proxy's API)")
            continue
        if name not in SECTIONS:
            p.add(line, key, f"unknown section (expected: {', '.join(SECTIONS)})")
            continue
        if name in sections:
            first = sections[name][0]
            p.add(line, key, "section given twice" if first == key else f"section given twice (as {first!r})")
            continue
        sections[name] = (key, line, None if name == "users" else value)
        if name == "users":
            _section(builder, key, line, value, builder.add_user)
    adders = {"budgets": builder.add_budget, "organizations": builder.add_org, "teams": builder.add_team,
              "keys": builder.add_key}
    for name in ("budgets", "organizations", "teams", "keys"):
        if name in sections:
            _section(builder, *sections[name], adders[name])
    return builder.spec(defer=defer)


def _section(builder: Builder, key: str, line: int, value: Any, add: Callable[[LMap, str], None]) -> None:
    """Each entry of one section (a list, read whole or as it is read) to its Builder method."""
    if value is None:
        return
    if not isinstance(value, (LSeq, yamldoc.Items)):
        builder.problems.add(line, key, f"expected a list, got {spec_fields.kind(value)}")
        return
    for n, (at, item) in enumerate(_located(value)):
        where = f"{key}[{n}]"
        if not isinstance(item, LMap):
            builder.problems.add(at, where, f"expected a mapping, got {spec_fields.kind(item)}")
            continue
        add(item, where)


def _located(value: LSeq | yamldoc.Items) -> Iterable[tuple[int, Any]]:
    return zip(value.lines, value.items) if isinstance(value, LSeq) else value


def load_users(path: str, *, fmt: str | None = None, defer: bool = False) -> Spec:
    """A users file for `user provision FILE`: YAML/JSON (a list, or a mapping with `users`) or CSV."""
    kind = fmt or ("csv" if path.lower().endswith(".csv") else "yaml")
    if kind == "csv":
        text, source = read_text(path)
        return users_from_csv(text, source, defer=defer)
    with _opened(path) as (stream, source):
        return _read(yamldoc.entries(stream, source, lazy=("users",)), source, defer=defer, users_file=True)


CSV_LISTS = {"models", "teams", "organizations"}


def users_from_csv(text: str, source: str, *, defer: bool = False) -> Spec:
    """CSV with a header row naming user fields; lists (models, teams, organizations) are `;`-separated,
    a team may carry a role as `team-a:admin`."""
    builder = Builder(source)
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        return builder.spec()
    for name in reader.fieldnames:
        if name not in USER_KEYS:
            builder.problems.add(1, name, f"unknown column (expected some of: {', '.join(sorted(USER_KEYS))})")
    builder.problems.raise_if_any()
    line = 1
    for n, row in enumerate(reader):
        line = reader.line_num
        values: dict[str, Any] = {}
        for key, cell in row.items():
            if key is None:
                builder.problems.add(line, f"users[{n}]", "more cells than header columns")
                continue
            cell = (cell or "").strip()
            if cell == "":
                continue
            values[key] = _csv_value(key, cell, line)
        builder.add_user(LMap(values, dict.fromkeys(values, line), line), f"users[{n}]")
    return builder.spec(defer=defer)


def _csv_value(key: str, cell: str, line: int) -> Any:
    if key in CSV_LISTS:
        parts = [part.strip() for part in cell.split(";") if part.strip()]
        return LSeq(parts, [line] * len(parts), line)
    if key == "metadata":
        import json

        try:
            return to_located(json.loads(cell), line)
        except ValueError:
            return cell
    check = USER_FIELDS.get(key)
    if check in spec_fields.NUMBERS:
        try:
            number = float(cell)
            return int(number) if check is not spec_fields.number and number.is_integer() else number
        except ValueError:
            return cell
    if key == "auto_create_key":
        return cell.lower() == "true"
    return cell


def to_located(value: Any, line: int = 0) -> Any:
    if isinstance(value, dict):
        return LMap({k: to_located(v, line) for k, v in value.items()}, {}, line)
    if isinstance(value, list):
        return LSeq([to_located(v, line) for v in value], [line] * len(value), line)
    return value


def from_records(records: Iterable[tuple[str, Mapping[str, Any]]], source: str) -> Spec:
    """A spec from plain mappings (command-line flags): [(section, mapping), ...]."""
    builder = Builder(source)
    adders = {"budgets": builder.add_budget, "organizations": builder.add_org, "teams": builder.add_team,
              "users": builder.add_user, "keys": builder.add_key}
    counts: dict[str, int] = {}
    ordered = sorted(records, key=lambda r: ("users", "budgets", "organizations", "teams", "keys").index(r[0]))
    for section, mapping in ordered:
        n = counts.get(section, 0)
        counts[section] = n + 1
        adders[section](to_located(dict(mapping)), f"{section}[{n}]" if source != "flags" else section)
    return builder.spec()


def check_role(role: str | None, roles: Sequence[str]) -> None:
    """InvalidInput naming the valid roles when a --role is none of them (an unknown role would
    otherwise match nothing, or be written)."""
    checks.flag("--role", role, lambda given: checks.choice(given, roles))


def one_membership(kind: str, group: str, user: str, role: str | None, max_budget: float | None = None) -> Spec:
    """USER (a user_id, or an email when it holds @) joins team/org GROUP (id or alias) with ROLE:
    a missing user is created with LiteLLM's member defaults; a missing team or org is an error."""
    check_role(role, TEAM_ROLES if kind == "team" else ORG_ROLES)
    checks.flag("--max-budget-in-team", max_budget, checks.number)
    email = user.strip() if "@" in user else None
    if email is not None:
        try:
            checks.email(email)
        except checks.InvalidValue as exc:
            raise InvalidInput(str(exc)) from None
    loc = Loc("flags", 0)
    person = UserSpec(None if email else user.strip(), None, email, {"user_email": email} if email else {}, loc,
                      "USER", implied=True)
    return Spec("flags", users=(person,),
                memberships=(Membership(0, kind, group, role, max_budget, loc, kind.upper()),))
