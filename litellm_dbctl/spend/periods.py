"""The period grammar of `dbctl spend`: `--since` / `--until` as [since, until) in UTC.

`7d` / `4w` are that many UTC days including today, `24h` a moving window, `YYYY-MM-DD` a UTC day
(included as `--until`), an ISO date-time is UTC unless it has an offset; `today`, `yesterday`,
`now`, and `all` (`--since` only: from the beginning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from litellm_dbctl.common.errors import InvalidInput

_RELATIVE = re.compile(r"^(\d+)\s*([hdw])$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
        """Every UTC day of the period (from `first` when it starts at the beginning of time)."""
        start = first if self.since is None else self.first_day
        if start is None:
            return []
        return [start + timedelta(days=n) for n in range((self.last_day - start).days + 1)]


def parse_moment(text: str, now: datetime, *, option: str, until: bool = False) -> datetime | None:
    """One end of a period: `7d`/`4w` (that many UTC days including today), `24h`, `YYYY-MM-DD`
    (a UTC day; as --until it includes that day), an ISO date-time (UTC unless it has an offset),
    `today`, `yesterday`, `now`, or `all` (--since only: from the beginning)."""
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
    if value in ("today", "yesterday"):
        start = today - timedelta(days=1 if value == "yesterday" else 0)
        return start + timedelta(days=1) if until else start
    match = _RELATIVE.match(value)
    if match:
        count, unit = int(match.group(1)), match.group(2)
        if unit == "h":
            return now - timedelta(hours=count)
        days = count * (7 if unit == "w" else 1)
        if days < 1:
            raise InvalidInput(f"{option} {text!r}: a period of days must be at least 1d")
        return today - timedelta(days=days - 1)
    if _DAY.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{option} {text!r}: not a valid date") from None
        start = datetime.combine(day, time(0), tzinfo=timezone.utc)
        return start + timedelta(days=1) if until else start
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r}: expected 7d, 24h, 4w, YYYY-MM-DD, an ISO date-time, today, yesterday"
            + ("" if until else " or all")
        ) from None
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
