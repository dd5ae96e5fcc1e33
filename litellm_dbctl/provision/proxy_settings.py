"""The proxy's own defaults for what it creates: LiteLLM's `litellm_settings` that /user/new,
/team/member_add and /team/new read (litellm-database.md §4.2-4.4), applied the same way when dbctl
creates a user or a team, so the row is the one the proxy would have written.

They come from the proxy's config.yaml (`--proxy-config`), overlaid key by key by the copy a proxy
running with `store_model_in_db` keeps in `LiteLLM_Config` (param_name `litellm_settings`), as the
proxy merges them at start-up. Without a file dbctl takes the database's copy alone; a file whose
`general_settings.store_model_in_db` is not true makes dbctl ignore it, as that proxy does.

A value written `os.environ/NAME` is the environment variable NAME, read from dbctl's own
environment as the proxy reads its own at start-up; an unset one is a bad setting.

Only creation reads them: an existing user or team is never touched by a default.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import yamldoc
from litellm_dbctl.common.errors import InvalidInput, InvalidSpec
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.provision import spec_fields, specs
from litellm_dbctl.provision.spec_records import Loc

if TYPE_CHECKING:
    import psycopg

ADMIN_ROLE = "proxy_admin"
# default_internal_user_params: the keys dbctl writes (teams is read apart); LiteLLM skips available_teams itself.
USER_PARAMS: dict[str, spec_fields.Check] = spec_fields.USER_FIELDS
IGNORED_USER_PARAMS = frozenset({"available_teams"})
# default_team_params: the fields /team/new takes from it (litellm-database.md §4.3). organization_id
# must name an organization that exists: the planner checks it when a team it creates takes it.
TEAM_PARAMS: dict[str, spec_fields.Check] = {k: spec_fields.TEAM_FIELDS[k] for k in (
    "max_budget", "budget_duration", "tpm_limit", "rpm_limit", "team_member_permissions", "organization_id")}
GLOBALS: dict[str, spec_fields.Check] = {"max_internal_user_budget": spec_fields.number,
                                   "internal_user_budget_duration": spec_fields.duration}
ENV_REFERENCE = "os.environ/"


@dataclass(frozen=True)
class DefaultTeam:
    """A team /user/new adds a new user to when the request names none (role `user` unless given)."""

    team_id: str
    role: str = "user"
    max_budget_in_team: float | None = None


@dataclass(frozen=True)
class ProxySettings:
    user_params: Mapping[str, Any] = field(default_factory=dict)  # default_internal_user_params, checked
    max_internal_user_budget: float | None = None
    internal_user_budget_duration: str | None = None
    team_params: Mapping[str, Any] = field(default_factory=dict)  # default_team_params, the fields used
    user_teams: tuple[DefaultTeam, ...] = ()  # default_internal_user_params.teams: joined by a new user
    not_applied: tuple[str, ...] = ()  # settings LiteLLM reads that dbctl does not apply (reported)
    at: Mapping[str, Loc] = field(default_factory=dict)  # "section.key" -> where it is set, for problems

    def new_user(self, fields: Mapping[str, Any], *, implied: bool) -> Mapping[str, Any]:
        """A created user's fields with the proxy's defaults for the fields the spec leaves out.

        A declared user gets /user/new's: default_internal_user_params unless the declared role is
        proxy_admin, then for role internal_user the max_internal_user_budget and
        internal_user_budget_duration globals. A user created as a team member gets
        /team/member_add's: models, max_budget and budget_duration from the params, else the globals.
        A field the spec names, even as null or [], is kept as declared (LiteLLM also fills an empty
        `models`): a second run then finds the row as declared and changes nothing."""
        params = self.user_params
        if implied:
            defaults = {"models": params.get("models"),
                        "max_budget": params.get("max_budget", self.max_internal_user_budget),
                        "budget_duration": params.get("budget_duration", self.internal_user_budget_duration)}
        else:
            role = fields.get("user_role")
            defaults = dict(params) if role != ADMIN_ROLE else {}
            if role == "internal_user":
                defaults.setdefault("max_budget", self.max_internal_user_budget)
                defaults.setdefault("budget_duration", self.internal_user_budget_duration)
        return _filled(fields, defaults)

    def new_team(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """A created team's fields with default_team_params' budget, limits, team_member_permissions and
        organization_id where the spec leaves them out (a field named, even as null or [], is kept:
        a second run then finds the row as declared)."""
        return dict(_filled(fields, self.team_params))  # a copy: the planner resolves its organization in it


def _filled(fields: Mapping[str, Any], defaults: Mapping[str, Any]) -> Mapping[str, Any]:
    """`fields` with the defaults it leaves out; `fields` itself when there are none (most users)."""
    missing = {name: value for name, value in defaults.items() if value is not None and name not in fields}
    return {**fields, **missing} if missing else fields


@dataclass(frozen=True)
class ConfigFile:
    """A proxy config.yaml, read once: its litellm_settings and whether that proxy reads the
    database's copy (general_settings.store_model_in_db)."""

    source: str
    settings: yamldoc.LMap | None
    reads_db: bool


def read_config(path: str) -> ConfigFile:
    """The proxy config at PATH; InvalidInput for a missing or malformed file."""
    text, source = specs.read_text(path)
    document = yamldoc.parse(text, source)
    if document is None:
        return ConfigFile(source, None, False)
    if not isinstance(document, yamldoc.LMap):
        raise InvalidInput(f"{source}:{getattr(document, 'line', 0) or 1}: expected a LiteLLM proxy config (a mapping)")
    general = document.values.get("general_settings")
    from_db = isinstance(general, yamldoc.LMap) and general.values.get("store_model_in_db") is True
    settings = document.values.get("litellm_settings")
    if settings is not None and not isinstance(settings, yamldoc.LMap):
        raise InvalidInput(f"{source}:{document.at('litellm_settings')}: litellm_settings: expected a mapping")
    return ConfigFile(source, settings, from_db)


def load(conn: psycopg.Connection, config: ConfigFile | None) -> ProxySettings:
    """The settings the proxy creates with: the file's, overlaid by the database's copy when the
    proxy reads it (always without a file). InvalidInput naming the file (or LiteLLM_Config) and
    key for a bad value."""
    merged: dict[str, tuple[Any, str, int]] = {}  # key -> (value, source, line)
    if config is not None and config.settings is not None:
        for key, value in config.settings.values.items():
            merged[key] = (value, config.source, config.settings.at(key))
    if config is None or config.reads_db:
        row = sqlfiles.run(conn, "provision/proxy_settings", {})
        stored = row[0]["param_value"] if row else None
        if isinstance(stored, dict):
            for key, value in stored.items():
                merged[key] = (specs.to_located(value), "LiteLLM_Config", 0)
    return _checked(merged)


def _checked(merged: Mapping[str, tuple[Any, str, int]]) -> ProxySettings:
    problems: list[str] = []

    def check(name: str, value: Any, check_: spec_fields.Check, source: str, line: int) -> Any:
        where = f"{source}:{line}: litellm_settings.{name}" if line else f"{source}: litellm_settings.{name}"
        used: list[tuple[str, Any]] = []
        try:
            value = _resolved(value, used)
        except UnsetVariable as exc:
            problems.append(f"{where}: {ENV_REFERENCE}{exc.name}: environment variable {exc.name!r} is not set")
            return None
        try:
            return check_(_unmarked(value, check_ in spec_fields.NUMBERS))
        except ValueError as exc:
            problems.append(f"{where}: {_redacted(str(exc), used)}")
            return None

    globals_ = {name: check(name, merged[name][0], check_, *merged[name][1:])
                for name, check_ in GLOBALS.items() if name in merged and merged[name][0] is not None}
    sections: dict[str, dict[str, Any]] = {"default_internal_user_params": {}, "default_team_params": {}}
    teams: tuple[DefaultTeam, ...] | None = None
    not_applied: list[str] = []
    at: dict[str, Loc] = {}
    for section, known in (("default_internal_user_params", USER_PARAMS), ("default_team_params", TEAM_PARAMS)):
        if section not in merged or merged[section][0] is None:
            continue
        mapping, source, line = merged[section]
        if not isinstance(mapping, yamldoc.LMap):
            check(section, mapping, spec_fields.mapping, source, line)
            continue
        for key, value in mapping.values.items():
            if value is None or (section == "default_internal_user_params" and key in IGNORED_USER_PARAMS):
                continue
            if section == "default_internal_user_params" and key == "teams":
                teams = check(f"{section}.teams", value, _default_teams, source, mapping.lines.get(key, line))
                continue
            if key not in known:
                not_applied.append(f"{section}.{key}")
                continue
            loc = at[f"{section}.{key}"] = Loc(source, mapping.lines.get(key, line))
            sections[section][key] = check(f"{section}.{key}", value, known[key], *loc)
    if problems:
        raise InvalidSpec(problems, source="proxy settings")
    return ProxySettings(sections["default_internal_user_params"], globals_.get("max_internal_user_budget"),
                         globals_.get("internal_user_budget_duration"), sections["default_team_params"],
                         teams or (), tuple(not_applied), at)


def _default_teams(value: Any) -> tuple[DefaultTeam, ...]:
    """default_internal_user_params.teams: team ids, or {team_id, user_role, max_budget_in_team}."""
    if not isinstance(value, yamldoc.LSeq):
        raise ValueError(f"expected a list of team ids or mappings, got {spec_fields.kind(value)}")
    teams = []
    for item in value.items:
        if isinstance(item, str):
            teams.append(DefaultTeam(spec_fields.ident(item)))
            continue
        if not isinstance(item, yamldoc.LMap) or not isinstance(item.values.get("team_id"), str):
            raise ValueError("each entry must be a team id or a mapping with team_id")
        unknown = set(item.values) - {"team_id", "user_role", "max_budget_in_team"}
        if unknown:
            raise ValueError(f"unknown field {sorted(unknown)[0]!r} in a team entry")
        role = item.values.get("user_role") or "user"
        budget = item.values.get("max_budget_in_team")
        teams.append(DefaultTeam(spec_fields.ident(item.values["team_id"]), spec_fields.choice(spec_fields.TEAM_ROLES)(role),
                                 None if budget is None else spec_fields.number(_unmarked(budget, True))))
    return tuple(teams)


class UnsetVariable(Exception):
    """An `os.environ/NAME` reference to a variable that is not set."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class EnvText(str):
    """A setting's text read from an environment variable. A variable holds only text, so where a
    number is expected the text is read as one (a file's quoted "5" stays an error)."""


def _resolved(value: Any, used: list[tuple[str, Any]]) -> Any:
    """VALUE (a setting as read) with its `os.environ/NAME` references replaced, appending
    (NAME, value) to USED. LiteLLM's ProxyConfig.get_config (litellm/proxy/proxy_server.py) runs
    _check_for_os_environ_vars over the config after merging the database's copy: a string value of a
    mapping, at any depth, that starts with `os.environ/` becomes get_secret()'s os.environ[NAME]
    ("true"/"false" as booleans); mappings inside a list are walked, a list's own strings are not.
    Where LiteLLM takes an unset variable as None, this raises UnsetVariable: a default that quietly
    vanishes is a misconfiguration."""
    if isinstance(value, str) and value.startswith(ENV_REFERENCE):
        name = value[len(ENV_REFERENCE):]
        text = os.environ.get(name)
        if text is None:
            raise UnsetVariable(name)
        flag = text.strip().lower()
        resolved: Any = True if flag == "true" else False if flag == "false" else EnvText(text)
        used.append((name, resolved))
        return resolved
    if isinstance(value, yamldoc.LMap):
        return replace(value, values={key: _resolved(item, used) for key, item in value.values.items()})
    if isinstance(value, yamldoc.LSeq):
        return replace(value, items=[_resolved(item, used) if isinstance(item, yamldoc.LMap) else item
                                     for item in value.items])
    return value


def _unmarked(value: Any, number: bool) -> Any:
    """An EnvText as plain text, or as the finite number it spells when a NUMBER is expected; any
    other value as it is."""
    if not isinstance(value, EnvText):
        return value
    for kind in (int, float) if number else ():
        try:
            parsed = kind(value)
        except ValueError:
            continue
        if math.isfinite(parsed):
            return parsed
    return str(value)


def _redacted(message: str, used: Sequence[tuple[str, Any]]) -> str:
    """A check's message with each value read from the environment shown as its reference: the
    value may be a secret. When some of it would still show, the message says only that it is invalid."""
    for name, value in used:
        message = message.replace(repr(value), ENV_REFERENCE + name)
    if any(str(value) and str(value)[:16] in message for _, value in used):
        names = ", ".join(ENV_REFERENCE + name for name, _ in used)
        return f"{names}: not a valid value here (the value is not shown)"
    return message
