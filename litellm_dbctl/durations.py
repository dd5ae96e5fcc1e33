"""Budget durations and the next reset time, as LiteLLM computes them.

Two functions carry LiteLLM's rules (litellm-database.md §3.4): `duration_seconds` is its intake
parser (aliases, a prefix match `(\\d+)(mo|[smhdw]?)`, lowercase units) and `next_reset` its
calendar alignment (`1d` at the reset time of day, `7d`/`1w` next Monday, `30d`/`1mo` the 1st of
next month, other `Nd` today's midnight + N days, `Nh`/`Nm`/`Ns` aligned from local midnight), in a
timezone and reset time of day. `validate` rejects what LiteLLM's intake rejects. Provisioning and
budget sync share them, so a window set by one is the window the other resets.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone, tzinfo

from litellm_dbctl.errors import InvalidInput

ALIASES = {"hourly": "1h", "daily": "24h", "weekly": "7d", "monthly": "30d"}
_INTAKE = re.compile(r"(\d+)(mo|[smhdw]?)")
_ALIGN = re.compile(r"(\d+)([a-z]+)")
_RESET_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class InvalidDuration(InvalidInput):
    """A budget_duration LiteLLM would reject."""


@dataclass(frozen=True)
class ResetPolicy:
    """Where windows are aligned: LiteLLM's `litellm_settings.timezone` and `budget_reset_time`."""

    timezone: str = "UTC"
    reset_time: str = "00:00"

    def zone(self) -> tzinfo:
        return zone(self.timezone)

    def time_of_day(self) -> time:
        return parse_reset_time(self.reset_time)


UTC_MIDNIGHT = ResetPolicy()


def normalize(duration: str) -> str:
    text = duration.strip()
    return ALIASES.get(text.lower(), text)


def duration_seconds(duration: str, now: datetime | None = None) -> int:
    """LiteLLM's `duration_in_seconds`: `mo` is real calendar months from `now`."""
    text = normalize(duration)
    match = _INTAKE.match(text)
    if not match or not match.group(2):
        raise InvalidDuration(f"invalid duration {duration!r}: expected e.g. 30s, 15m, 1h, 1d, 1w, 1mo, daily")
    value, unit = int(match.group(1)), match.group(2)
    if unit != "mo":
        return value * _UNIT_SECONDS[unit]
    start = (now or datetime.now(timezone.utc)).replace(tzinfo=None)
    months = start.month - 1 + value
    year, month = start.year + months // 12, months % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int((start.replace(year=year, month=month, day=day) - start).total_seconds())


def validate(duration: str, policy: ResetPolicy = UTC_MIDNIGHT) -> str:
    """The duration as given when LiteLLM would accept it; raises InvalidDuration otherwise."""
    if duration_seconds(duration) <= 0:
        raise InvalidDuration(f"invalid duration {duration!r}: must be longer than zero")
    next_reset(duration, datetime.now(timezone.utc), policy)
    return duration.strip()


def next_reset(duration: str, now: datetime, policy: ResetPolicy = UTC_MIDNIGHT) -> datetime:
    """The next window boundary after `now` (aware UTC result), by LiteLLM's alignment rules."""
    tz = policy.zone()
    reset_at = policy.time_of_day()
    local = (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    match = _ALIGN.match(normalize(duration))
    if not match:
        return _utc(_at(midnight + timedelta(days=1), time(0), tz))
    value, unit = int(match.group(1)), match.group(2)
    if unit == "w":
        unit, value = "d", value * 7
    if unit == "d":
        if value == 0:
            return _utc(local)
        if value == 1:
            today = _at(midnight, reset_at, tz)
            return _utc(today if today > local else _at(midnight + timedelta(days=1), reset_at, tz))
        if value == 7:
            days = (7 - local.weekday()) % 7 or 7
            return _utc(_at(midnight + timedelta(days=days), reset_at, tz))
        if value == 30:
            return _utc(_first_of_next_month(local, reset_at, tz))
        return _utc(_at(midnight + timedelta(days=value), reset_at, tz))
    if unit == "mo":
        if value != 1:
            raise InvalidDuration(f"invalid duration {duration!r}: monthly windows support only 1mo")
        return _utc(_first_of_next_month(local, reset_at, tz))
    if unit in ("h", "m", "s"):
        if value == 0:
            return _utc(local)
        step = value * _UNIT_SECONDS[unit]
        elapsed = (local.replace(tzinfo=None) - midnight.replace(tzinfo=None)).total_seconds()
        boundary = (int(elapsed // step) + 1) * step
        if unit == "h" and boundary >= 86400:
            return _utc(_at(midnight + timedelta(days=1), time((boundary // 3600) % 24), tz))
        naive = midnight.replace(tzinfo=None) + timedelta(seconds=boundary)
        return _utc(naive.replace(tzinfo=tz))
    # An unknown unit after the digits (`1month`): LiteLLM warns and resets at the next midnight.
    return _utc(_at(midnight + timedelta(days=1), time(0), tz))


def zone(name: str) -> tzinfo:
    if name.upper() == "UTC":
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {name!r} (expected an IANA name such as Europe/Berlin)") from None


def parse_reset_time(text: str) -> time:
    match = _RESET_TIME.match(text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59 or int(match.group(3) or 0) > 59:
        raise InvalidInput(f"invalid reset time {text!r}: expected HH:MM or HH:MM:SS")
    return time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def _at(day: datetime, at: time, tz: tzinfo) -> datetime:
    """Wall-clock `at` on the local date of `day` (DST-correct: the offset is the one of that moment)."""
    return datetime.combine(day.date(), at).replace(tzinfo=tz)


def _first_of_next_month(local: datetime, at: time, tz: tzinfo) -> datetime:
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, at.hour, at.minute, at.second, tzinfo=tz)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)
