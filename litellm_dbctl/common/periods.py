"""The period grammar of every command with `--since` / `--until` (`spend`, `daily`): one parser,
one meaning.

A period runs from the start of `--since` to the end of `--until`, in UTC.
- A day counts whole at either end: as `--since` the period starts at its midnight, as `--until` it
  ends at the next one (the day is included). Days: `YYYY-MM-DD`, `today`, `yesterday`, `Nd` (the
  UTC day N days before today: `0d` today, `1d` yesterday, `7d` a week ago) and `Nw` (7N days).
- An instant is where the period starts or ends (the instant itself is not included): an ISO
  date-time (UTC unless it has an offset), `Ns`/`Nm`/`Nh` (that long before now), `now`.
- `all` (`--since` only): from the beginning.
So `--since 7d` is the last seven whole UTC days and today so far, `--since 24h` exactly a day, and
`--since 2026-01-01 --until 2026-01-31` all of January.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.common.spans import UNITS

_RELATIVE = re.compile(r"^(\d+)\s*(s|min|m|h|d|w)$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FORMS = "YYYY-MM-DD, an ISO date-time, today, yesterday, now, Nd, Nw (days ago), Nh, Nm (time ago)"


@dataclass(frozen=True)
class Period:
    """[since, until) in UTC. `since` None: from the beginning; `open_end`: `until` is now."""

    since: datetime | None
    until: datetime
    open_end: bool = False

    @property
    def first_day(self) -> date:
        return self.since.date() if self.since else date.min

    @property
    def last_day(self) -> date:
        return (self.until - timedelta(microseconds=1)).date()

    @property
    def whole_days(self) -> bool:
        """True when both ends fall on UTC midnight (or `until` is now): the daily tables fit exactly."""
        midnight = time(0, tzinfo=timezone.utc)
        return ((self.since is None or self.since.timetz() == midnight)
                and (self.open_end or self.until.timetz() == midnight))

    def days(self, first: date | None = None) -> list[date]:
        """Every UTC day the period touches (from `first` when it starts at the beginning of time)."""
        start = first if self.since is None else self.first_day
        if start is None:
            return []
        return [start + timedelta(days=n) for n in range((self.last_day - start).days + 1)]


def parse_moment(text: str, now: datetime, *, option: str, until: bool = False) -> datetime | None:
    """One end of a period (see the module docstring): a day's start, or its end as --until; an instant;
    None for `all` (--since only)."""
    if "\x00" in text:
        raise InvalidInput(f"{option}: must not contain a NUL character")
    try:
        return _moment(text, now, option=option, until=until)
    except OverflowError:  # 999999999d, 9999-12-31 as --until (its end is the next day)
        raise InvalidInput(f"{option} {text[:40]!r}: outside the dates Python and PostgreSQL hold "
                           "(years 1 to 9999)") from None


def _moment(text: str, now: datetime, *, option: str, until: bool) -> datetime | None:
    value = text.strip().lower()
    today = datetime.combine(now.date(), time(0), tzinfo=timezone.utc)
    if value == "all" and not until:
        return None
    if value == "now":
        return now
    day: datetime | None = None
    if value in ("today", "yesterday"):
        day = today - timedelta(days=1 if value == "yesterday" else 0)
    elif match := _RELATIVE.match(value):
        count, unit = int(match.group(1)), match.group(2)
        if unit not in ("d", "w"):
            return now - timedelta(seconds=count * UNITS[unit])
        day = today - timedelta(days=count * (7 if unit == "w" else 1))
    elif _DAY.match(value):
        try:
            day = datetime.combine(date.fromisoformat(value), time(0), tzinfo=timezone.utc)
        except ValueError:
            raise InvalidInput(f"{option} {text!r}: not a valid date") from None
    if day is not None:
        return day + timedelta(days=1) if until else day
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{option} {text[:40]!r}: expected {FORMS}" + ("" if until else " or all")) from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def period(since: str | None, until: str | None, *, default_since: str = "30d",
           now: datetime | None = None) -> Period:
    """The period of `--since` / `--until` (default: `default_since` until now)."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    start = parse_moment(since or default_since, now, option="--since")
    end = parse_moment(until, now, option="--until", until=True) if until else now
    assert end is not None
    if start is not None and start >= end:
        raise InvalidInput(f"--since {start:%Y-%m-%d %H:%M} is not before --until {end:%Y-%m-%d %H:%M} (UTC)")
    return Period(start, end, open_end=until is None)
