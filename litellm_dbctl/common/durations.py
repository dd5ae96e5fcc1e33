"""Budget durations and the next reset time, as LiteLLM 1.109.1 and 1.110.2 compute them.

Two functions carry LiteLLM's rules (litellm-database.md §3.4), checked against its
`duration_parser.py` and `timezone_utils.py` (tests/data/reset_tables.json holds both releases'
own answers, written by tests/data/gen_reset_tables.py):

- `duration_seconds` is its intake parser: the aliases hourly|daily|weekly|monthly
  (case-insensitive, surrounding blanks allowed), else a prefix match `(\\d+)(mo|[smhdw]?)` on the
  text as given: trailing text is ignored (`30days` is 30 days), a leading blank, an upper-case
  unit or a missing unit is an error, `mo` is real calendar months from now.
- `next_reset` is its calendar alignment, evaluated in a timezone with a reset time of day. It
  parses the unit as `[a-z]+`, so it can disagree with the intake parser:
  `1d` the next reset time of day; `7d`/`1w` Monday at the reset time (today if still ahead);
  `30d`/`1mo` the 1st at the reset time (today if still ahead); other `Nd` (also `2w` = 14d)
  midnight today + N days at the reset time; `Nh` the next hour that is a multiple of N counted
  from local midnight (`daily` is `24h`, so it ignores the reset time); `Nm` the next multiple of N
  within the hour, `Ns` within the minute, carrying into hours; an hour past 23 wraps onto
  TOMORROW at that hour modulo 24 (`48h` at 10:00 -> tomorrow 00:00, `1500m` at 10:00 -> tomorrow
  11:00); `Nmo` with N != 1 is an error; an unknown unit (`1month`, `30days`, `1wk`) means the next
  midnight, although intake accepted it by prefix.
- From 1.110 on (`ResetPolicy.release`), the aligner takes the unit the intake parser reads, so a
  long spelling aligns on the unit it starts with: `1month` the 1st, `30days` the 1st, `1wk`
  Monday, `1hr` the next hour, `10min` the next 10 minutes, `5ms` the next 5 minutes. Only a
  spelling starting with `mo` but not `mo` itself keeps its own unit when N != 1 (`2months`: the
  next midnight). Everything else is the same in both releases.

`previous_boundary` finds where a window ending at a given reset began, by walking `next_reset`,
so the grid has one implementation.

Wall-clock arithmetic follows Python's (and so LiteLLM's): a time in a DST gap keeps the offset
from before the gap, so it lands the gap's length later on the clock (02:30 in Europe/Berlin on
the spring-forward day is 03:30 CEST), and during a repeated hour the result stays on the same
side of the fold as `now`, so it is always in the future. `validate` rejects what LiteLLM's intake
(`budget_duration_error`) rejects: non-positive lengths and anything `next_reset` cannot compute.
Provisioning and budget sync share these functions, so a window set by one is the window the other
resets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone, tzinfo

from litellm_dbctl.common import clock
from litellm_dbctl.common.errors import InvalidInput

ALIASES = {"hourly": "1h", "daily": "24h", "weekly": "7d", "monthly": "30d"}
_INTAKE = re.compile(r"(\d+)(mo|[smhdw]?)")
_ALIGN = re.compile(r"(\d+)([a-z]+)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DAY = timedelta(days=1)
RELEASES = ("1.109", "1.110")  # the LiteLLM release lines whose reset rules dbctl knows
DEFAULT_RELEASE = "1.109"
MAX_WALK = 1000  # boundaries previous_boundary walks: a daily grid two years long (`8760h` resets daily)
EXAMPLES = "e.g. 30s, 15m, 1h, 6h, 1d, 7d, 1w, 30d, 1mo, hourly, daily, weekly, monthly"


class InvalidDuration(InvalidInput):
    """A budget_duration LiteLLM would reject."""


def release_number(release: str) -> tuple[int, int]:
    """`1.110` -> (1, 110); InvalidInput for what is not a release line."""
    major, _, minor = release.partition(".")
    if not (major.isascii() and major.isdigit() and minor.isascii() and minor.isdigit()):
        raise InvalidInput(f"invalid LiteLLM release {release!r}: expected a release line such as 1.109 or 1.110")
    return int(major), int(minor)


@dataclass(frozen=True)
class ResetPolicy:
    """Where windows are aligned: LiteLLM's `litellm_settings.timezone` and `budget_reset_time`,
    and the LiteLLM release line (`1.109`, `1.110`) whose alignment rules apply."""

    timezone: str = "UTC"
    reset_time: str = "00:00"
    release: str = DEFAULT_RELEASE

    def __post_init__(self) -> None:
        release_number(self.release)

    def zone(self) -> tzinfo:
        return zone(self.timezone)

    def time_of_day(self) -> time:
        return parse_reset_time(self.reset_time)


UTC_MIDNIGHT = ResetPolicy()


def normalize(duration: str) -> str:
    """The alias resolved (`Daily ` -> `24h`); any other text unchanged, as LiteLLM keeps it."""
    return ALIASES.get(duration.strip().lower(), duration)


def duration_seconds(duration: str, now: datetime | None = None) -> int:
    """LiteLLM's `duration_in_seconds`: `mo` counts real calendar months from `now`.

    (UTC here; LiteLLM counts from the host's local time, which is UTC in its containers.)"""
    match = _INTAKE.match(normalize(duration))
    if not match or not match.group(2):
        raise InvalidDuration(f"invalid duration {duration!r}: expected {EXAMPLES}")
    value, unit = _number(match.group(1), duration), match.group(2)
    if unit != "mo":
        return value * _UNIT_SECONDS[unit]
    start = _as_utc(now or datetime.now(timezone.utc)).replace(tzinfo=None)
    months = start.month - 1 + value
    year, month = start.year + months // 12, months % 12 + 1
    try:
        end = start.replace(year=year, month=month, day=min(start.day, _month_length(year, month)))
    except ValueError:
        raise InvalidDuration(f"invalid duration {duration!r}: too long") from None
    return int((end - start).total_seconds())


def validate(duration: str, policy: ResetPolicy = UTC_MIDNIGHT, now: datetime | None = None) -> str:
    """The duration as given when LiteLLM would accept it; raises InvalidDuration otherwise."""
    if duration_seconds(duration, now) <= 0:
        raise InvalidDuration(f"invalid duration {duration!r}: must be longer than zero")
    next_reset(duration, now or datetime.now(timezone.utc), policy)
    return duration


def next_reset(duration: str, now: datetime, policy: ResetPolicy = UTC_MIDNIGHT) -> datetime:
    """The next window boundary after `now` (naive means UTC), as an aware UTC datetime.

    Raises InvalidDuration where LiteLLM raises (`2mo`, a date past year 9999)."""
    local = _as_utc(now).astimezone(policy.zone())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    text = normalize(duration)
    match = _ALIGN.match(text)
    try:
        if not match:
            return _utc(midnight + _DAY)
        value, unit = _number(match.group(1), duration), _align_unit(text, match.group(2), policy.release)
        if unit == "mo" and value != 1 and match.group(2) != "mo":
            unit = match.group(2)  # 1.110: `2months` keeps its own (unknown) unit; `2mo` is the error below
        if unit in ("d", "w"):
            days = value * 7 if unit == "w" else value
            return _utc(_day_reset(local, midnight, days, policy.time_of_day()))
        if unit == "mo":
            if value != 1:
                raise InvalidDuration(f"invalid duration {duration!r}: monthly windows support only 1mo")
            return _utc(_month_reset(local, midnight, policy.time_of_day()))
        if unit in ("h", "m", "s"):
            return _utc(_clock_reset(local, midnight, value, unit))
        return _utc(midnight + _DAY)  # an unknown unit: LiteLLM warns and resets at the next midnight
    except OverflowError:
        raise InvalidDuration(f"invalid duration {duration!r}: the next reset is past year 9999") from None


def previous_boundary(duration: str, reset_at: datetime, policy: ResetPolicy = UTC_MIDNIGHT) -> datetime | None:
    """The boundary before `reset_at` (aware UTC) when `reset_at` is itself a boundary, else None.

    A window ends at one boundary and began at the one before, which for calendar durations is not
    `reset_at` minus the length (`monthly` ending April 1 began March 1; `5h` ending 05:00 began at
    01:00, where 20:00 + 5h wrapped). Only `next_reset` knows the grid, so this walks it forward
    from two lengths back, in wall time so that an `Nd` walk starts on the same day of its cycle;
    when a DST gap put that probe at or past the previous boundary, from three lengths back in
    absolute time. None when the walk steps over `reset_at` (it is not on this grid under `policy`:
    an older LiteLLM set it to now + duration, or another timezone did) or takes more than MAX_WALK
    steps (`100000h` resets daily: 22 years of days). Where a repeated hour gives `reset_at` two
    predecessors, the walk finds the one it passes first. Raises InvalidDuration where
    `duration_seconds` or `next_reset` does, and for a length of zero."""
    reset_at = _as_utc(reset_at)
    span = timedelta(seconds=duration_seconds(duration, reset_at))
    if span <= timedelta(0):
        raise InvalidDuration(f"invalid duration {duration!r}: must be longer than zero")
    try:
        probes = (reset_at.astimezone(policy.zone()) - 2 * span, reset_at - 3 * span)
    except OverflowError:  # before year 1: no window to find
        return None
    for probe in probes:
        boundary = next_reset(duration, probe, policy)
        if boundary < reset_at:
            break
    else:
        return None
    for _ in range(MAX_WALK):
        following = next_reset(duration, boundary, policy)
        if following >= reset_at:
            if following == reset_at:
                return boundary
            break
        boundary = following
    # The end of a repeated hour: a wall-clock step from its first pass lands after its second pass
    # (02:59+01 + 1m is 03:00+00 in Casablanca), so no walk reaches a boundary inside the second
    # pass; the one a length before `reset_at` still leads to it.
    before = reset_at - span
    return before if next_reset(duration, before, policy) == reset_at else None


def _align_unit(text: str, spelled: str, release: str) -> str:
    """The unit the aligner acts on: the letters after the digits (1.109), or from 1.110 on the
    unit intake reads from them (`month` -> `mo`, `days` -> `d`), the letters when intake reads none."""
    if release_number(release) < (1, 110):
        return spelled
    intake = _INTAKE.match(text)
    return (intake.group(2) if intake else "") or spelled


def _day_reset(local: datetime, midnight: datetime, days: int, at: time) -> datetime:
    if days == 0:
        return local
    if days == 1:
        return _next_occurrence(midnight, at, local, _DAY)
    if days == 7:
        monday = midnight + timedelta(days=(7 - local.weekday()) % 7)
        return _next_occurrence(monday, at, local, timedelta(days=7))
    if days == 30:
        return _month_reset(local, midnight, at)
    return _at(midnight + timedelta(days=days), at)


def _month_reset(local: datetime, midnight: datetime, at: time) -> datetime:
    first = _at(midnight.replace(day=1), at)
    if first > local:
        return first
    return first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)


def _clock_reset(local: datetime, midnight: datetime, value: int, unit: str) -> datetime:
    """`Nh` from midnight, `Nm` within the hour, `Ns` within the minute; hours past 23 wrap to tomorrow."""
    if value == 0:
        return local
    hour, minute, second = local.hour, local.minute, 0
    if unit == "h":
        hour, minute = _next_multiple(hour, value), 0
    elif unit == "m":
        minute = _next_multiple(minute, value)
    else:
        second = _next_multiple(local.second, value)
        minute += second // 60
        second %= 60
    hour += minute // 60
    minute %= 60
    if hour >= 24:
        return (midnight + _DAY).replace(hour=hour % 24, minute=minute, second=second)
    return local.replace(hour=hour, minute=minute, second=second, microsecond=0)


def _number(digits: str, duration: str) -> int:
    try:
        return int(digits)
    except ValueError:  # more digits than Python converts (LiteLLM fails the same way)
        raise InvalidDuration(f"invalid duration {duration[:40]!r}...: number too long") from None


def _next_multiple(current: int, step: int) -> int:
    """The smallest multiple of `step` strictly greater than `current`."""
    return (current // step + 1) * step


def _next_occurrence(day: datetime, at: time, local: datetime, period: timedelta) -> datetime:
    """`at` on `day`, or one `period` later when that is not after `local` (wall-clock compare)."""
    candidate = _at(day, at)
    return candidate + period if candidate <= local else candidate


def _at(day: datetime, at: time) -> datetime:
    """Wall-clock `at` on `day`'s date, keeping its zone and fold."""
    return day.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=at.microsecond)


def _month_length(year: int, month: int) -> int:
    import calendar

    return calendar.monthrange(year, month)[1]


def zone(name: str) -> tzinfo:
    """An IANA zone. Unlike LiteLLM (which silently falls back to UTC) an unknown name is an error."""
    if name.upper() == "UTC":
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {name!r} (expected an IANA name such as Europe/Berlin)") from None


def parse_reset_time(text: str) -> time:
    """LiteLLM's `budget_reset_time`: 24-hour `H:M` or `H:M:S` (as strptime `%H:%M[:%S]` reads it)."""
    for fmt in ("%H:%M", "%H:%M:%S"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed.time()
    raise InvalidInput(f"invalid reset time {text!r}: expected 24-hour HH:MM or HH:MM:SS")


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


utc_naive = clock.utc_naive  # one implementation, in common.clock
utc_aware = clock.utc_aware
