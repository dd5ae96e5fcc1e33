"""Which UTC days LiteLLM's own cleanup job has pruned, so `daily check` and `daily reconcile` leave
them alone.

LiteLLM 1.109.1 (and 1.110.2, unchanged) runs a cleanup job (`SpendLogCleanup.cleanup_old_spend_logs`
in `litellm/proxy/db/db_transaction_queue/spend_log_cleanup.py`, every
`maximum_spend_logs_retention_interval`, default 1d, or on `maximum_spend_logs_cleanup_cron`) that
reads two settings from `general_settings` (never `litellm_settings`):

- `maximum_spend_logs_retention_period`: deletes `LiteLLM_SpendLogs` (and their
  `LiteLLM_SpendLogToolIndex` rows, or whole partitions) whose `startTime` < now - period. The daily
  rows stay, but the logs that derive them are gone: on every UTC day that starts before that
  instant, rebuilding would zero or delete them. All six tables are pruned there.
- `maximum_daily_tag_spend_retention_period`: deletes `LiteLLM_DailyTagSpend` rows whose `date`
  (ISO text) sorts before the UTC date of now - period; that day itself is kept. Rebuilding would
  put them back.

A value is read as `_retention_seconds_for` reads it: unset or null is no rule; an integer is that
many days; text goes through `duration_in_seconds` (common.durations.duration_seconds: `7d`, `12h`,
`2w`, `1mo`, `30days`, `daily`...); text it rejects (`7D`, ` 7d`, `30`) is logged by LiteLLM and
prunes nothing. Any other type (a float, a date) raises outside that handler and aborts the whole
run, so nothing is pruned; so does a period too long for a datetime (OverflowError), for the
spend logs, which are cleaned first, and for the tag rows alone.

Where the settings come from (`load`): the proxy's config.yaml (`--proxy-config`) wins key by key
(a key it declares, even as null, is the file's: `settings_rules.resolve`); the copy in
`LiteLLM_Config` (param_name `general_settings`) fills the keys the file leaves out when the proxy
reads it (`store_model_in_db` true in the file or in that copy), and is used alone without a file.
`os.environ/NAME` values are read from dbctl's environment, as provisioning reads them.

What this cannot see: `maximum_spend_logs_size` deletes the oldest logs by size, not by date; it is
only named in a warning.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import durations, yamldoc
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg

SPEND_LOGS = "maximum_spend_logs_retention_period"
TAG = "maximum_daily_tag_spend_retention_period"
SIZE = "maximum_spend_logs_size"
KEYS = (SPEND_LOGS, TAG, SIZE)
ENV_REFERENCE = "os.environ/"
DB_SOURCE = "LiteLLM_Config"


@dataclass(frozen=True)
class Setting:
    """One retention setting as the proxy resolves it, and where it was found (`file:line` or LiteLLM_Config)."""

    name: str
    value: Any
    source: str


@dataclass(frozen=True)
class Horizon:
    """The first day whose rows LiteLLM keeps, per rule (None: that rule prunes nothing)."""

    spend_logs: date | None = None  # every daily table on a day before it is pruned
    tag: date | None = None  # LiteLLM_DailyTagSpend on a day before it is deleted

    def pruned(self, day: date, tables: Sequence[str]) -> tuple[str, ...]:
        """Which of `tables` (dbctl's short names) LiteLLM has pruned on `day`."""
        if self.spend_logs is not None and day < self.spend_logs:
            return tuple(tables)
        if self.tag is not None and day < self.tag and "tag" in tables:
            return ("tag",)
        return ()

    @property
    def any(self) -> bool:
        return self.spend_logs is not None or self.tag is not None


NO_HORIZON = Horizon()


@dataclass(frozen=True)
class Retention:
    """The proxy's retention settings (the keys it sets) and what dbctl has to say about them."""

    settings: Mapping[str, Setting]
    warnings: tuple[str, ...] = ()

    def horizon(self, now: datetime) -> Horizon:
        """Where LiteLLM's cleanup job, run at `now`, draws its lines (module docstring)."""
        seconds = {name: _seconds(self.settings[name].value, now) for name in (SPEND_LOGS, TAG)
                   if name in self.settings}
        if any(value is _ABORTS for value in seconds.values()):
            return NO_HORIZON
        moment = now.astimezone(timezone.utc)
        spend = _cutoff(moment, seconds.get(SPEND_LOGS))
        if spend is _ABORTS:
            return NO_HORIZON
        tag = _cutoff(moment, seconds.get(TAG))
        return Horizon(
            spend_logs=None if not isinstance(spend, datetime) else _first_whole_day(spend),
            tag=tag.date() if isinstance(tag, datetime) else None,
        )

    def problems(self, now: datetime) -> list[str]:
        """One line per setting LiteLLM cannot apply (it logs a warning and prunes nothing by it)."""
        lines = []
        for name in (SPEND_LOGS, TAG):
            setting = self.settings.get(name)
            if setting is None:
                continue
            seconds = _seconds(setting.value, now)
            if seconds is None and setting.value is not None:
                lines.append(f"{setting.source}: general_settings.{name}: {setting.value!r} is not a duration "
                             "LiteLLM reads (e.g. 30d, 12h, 2w, 1mo): its cleanup job prunes nothing by it")
            elif seconds is _ABORTS:
                lines.append(f"{setting.source}: general_settings.{name}: {setting.value!r} makes LiteLLM's "
                             "cleanup job fail: it prunes nothing")
        return lines

    def describe(self, horizon: Horizon) -> dict[str, Any]:
        """The settings and where they cut, for JSON output."""
        cut = {SPEND_LOGS: horizon.spend_logs, TAG: horizon.tag}
        return {name: {"value": s.value, "source": s.source, "first_kept_day": cut.get(name)}
                for name, s in self.settings.items()}


_ABORTS = object()  # a value on which LiteLLM's cleanup run raises and prunes nothing


def _seconds(value: Any, now: datetime) -> Any:
    """`_retention_seconds_for`: seconds, None (unset or rejected), or _ABORTS."""
    if value is None:
        return None
    if isinstance(value, int):  # bool too, as in LiteLLM: True -> "Trued", rejected
        value = f"{value}d"
    if not isinstance(value, str):
        return _ABORTS
    try:
        return durations.duration_seconds(value, now)
    except InvalidInput:
        return None


def _cutoff(now: datetime, seconds: int | None) -> Any:
    if seconds is None:
        return None
    try:
        return now - timedelta(seconds=float(seconds))
    except OverflowError:
        return _ABORTS


def _first_whole_day(cutoff: datetime) -> date:
    """The first UTC day none of whose logs is before `cutoff` (the day holding it lost some)."""
    day = cutoff.date()
    midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    return day if cutoff == midnight else day + timedelta(days=1)


# -- where the settings come from ------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigFile:
    """The retention keys a proxy config.yaml declares in general_settings, and whether that proxy
    also reads LiteLLM_Config (general_settings.store_model_in_db)."""

    source: str
    declared: Mapping[str, Setting]
    reads_db: bool
    warnings: tuple[str, ...] = ()


def read_config(path: str) -> ConfigFile:
    """The proxy config at PATH; InvalidInput naming it for a missing, unreadable or malformed file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"--proxy-config: {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"--proxy-config: {path}: cannot read: {exc}") from None
    document = yamldoc.parse(text, path)
    if document is None:
        return ConfigFile(path, {}, False)
    if not isinstance(document, yamldoc.LMap):
        raise InvalidInput(f"{path}:{getattr(document, 'line', 0) or 1}: expected a LiteLLM proxy config (a mapping)")
    general = document.values.get("general_settings")
    if general is not None and not isinstance(general, yamldoc.LMap):
        raise InvalidInput(f"{path}:{document.at('general_settings')}: general_settings: expected a mapping")
    declared = {} if general is None else {
        key: Setting(key, general.values[key], f"{path}:{general.at(key)}") for key in KEYS if key in general.values}
    warnings = []
    other = document.values.get("litellm_settings")
    if isinstance(other, yamldoc.LMap):
        warnings = [f"{path}:{other.at(key)}: litellm_settings.{key}: LiteLLM reads it only from general_settings; "
                    "ignored" for key in KEYS if key in other.values]
    reads_db = general is not None and general.values.get("store_model_in_db") is True
    return ConfigFile(path, declared, reads_db, tuple(warnings))


def load(conn: psycopg.Connection, config: ConfigFile | None) -> Retention:
    """The retention settings the proxy's cleanup job runs with (module docstring)."""
    merged: dict[str, Setting] = dict(config.declared) if config else {}
    warnings = list(config.warnings) if config else []
    rows = sqlfiles.run(conn, "daily/proxy_general_settings", {})
    stored = rows[0]["param_value"] if rows else None
    if isinstance(stored, dict) and (config is None or config.reads_db or _true(stored.get("store_model_in_db"))):
        for key in KEYS:
            if key not in merged and stored.get(key) is not None:  # a stored null is absent
                merged[key] = Setting(key, stored[key], DB_SOURCE)
    resolved: dict[str, Setting] = {}
    for key, setting in merged.items():
        value = setting.value
        if isinstance(value, str) and value.startswith(ENV_REFERENCE):
            name = value[len(ENV_REFERENCE):]
            value = os.environ.get(name)
            if value is None:
                warnings.append(f"{setting.source}: general_settings.{key}: {ENV_REFERENCE}{name}: environment "
                                "variable is not set here; taken as unset")
        if value is not None:
            resolved[key] = Setting(key, value, setting.source)
    if SIZE in resolved:
        warnings.append(f"{resolved[SIZE].source}: general_settings.{SIZE} is set: LiteLLM also deletes the oldest "
                        "spend logs by size, which dbctl cannot date; days it emptied show as drift")
    return Retention({k: v for k, v in resolved.items() if k != SIZE}, tuple(warnings))


def _true(value: Any) -> bool:
    """store_model_in_db as the proxy reads the stored copy: true, or the text "true" in any case."""
    return value is True or (isinstance(value, str) and value.lower() == "true")
