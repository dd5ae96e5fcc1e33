"""LiteLLM 1.109.1's budget durations, case by case, and properties of the next reset.

Every row of the tables below was checked against LiteLLM's own `duration_parser` (the odd cases of
litellm-database.md §3.4 included): these are its behaviours, not opinions about them.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from litellm_dbctl.common import durations
from litellm_dbctl.common.durations import InvalidDuration, ResetPolicy, duration_seconds, next_reset, previous_boundary, validate
from litellm_dbctl.common.errors import InvalidInput

UTC = timezone.utc


def at(text: str) -> datetime:
    """An aware UTC datetime from 'YYYY-MM-DDTHH:MM[:SS]'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# duration -> seconds, as LiteLLM's intake (`duration_in_seconds`) reads it.
SECONDS = [
    ("30s", 30), ("15m", 900), ("1h", 3600), ("6h", 21600), ("1d", 86400), ("7d", 604800),
    ("1w", 604800), ("30d", 2592000), ("hourly", 3600), ("Daily", 86400), (" weekly ", 604800),
    ("MONTHLY", 2592000), ("daily", 86400),
    # odd but accepted: a prefix match ignores what follows the unit
    ("30days", 2592000), ("1d ", 86400), ("01d", 86400), ("1wk", 604800), ("90m", 5400),
    ("1ms", 60),  # `m` then junk: one minute
    ("\u0663d", 3 * 86400),  # Python's \d matches any Unicode digit (ARABIC-INDIC THREE)
]

MONTHS = [  # 1mo is the real calendar month from now (clamped to the month's last day)
    ("2026-01-31T12:00", 28 * 86400), ("2026-03-15T00:00", 31 * 86400), ("2028-01-30T00:00", 30 * 86400),
    ("2026-12-10T08:00", 31 * 86400),
]

# Rejected at intake: `budget_duration_error` says no.
REJECTED = [
    "", "abc", "10", "1D", "1H", "1Mo", " 1d", "\t7d", "1.5h", "-1d", "+1d", "0d", "0s", "0h", "0w", "0mo",
    "2mo", "12mo",  # `Nmo` with N != 1 cannot be aligned
    "3000000d", "1000000000d", "200000000w",  # the next reset would be past year 9999
]

# Accepted at intake although the aligner does not know the unit: they reset at the next midnight.
ACCEPTED_ODD = ["1month", "30days", "1wk", "2months", "1mon", "1dxyz", "5ms"]

# (duration, now UTC, timezone, reset time, next reset UTC)
NEXT = [
    # 1d: the next reset time of day
    ("1d", "2026-03-10T15:00", "UTC", "00:00", "2026-03-11T00:00"),
    ("1d", "2026-03-10T09:00", "UTC", "12:00", "2026-03-10T12:00"),
    ("1d", "2026-03-10T12:00", "UTC", "12:00", "2026-03-11T12:00"),  # exactly at the reset: the next one
    ("1d", "2026-03-10T20:00", "Asia/Kolkata", "00:00", "2026-03-11T18:30"),
    ("1d", "2026-03-10T20:00", "UTC", "23:59:30", "2026-03-10T23:59:30"),
    # daily is 24h: an hour rule, so it ignores the reset time
    ("daily", "2026-03-10T09:00", "UTC", "12:00", "2026-03-11T00:00"),
    ("24h", "2026-03-10T00:00", "UTC", "00:00", "2026-03-11T00:00"),
    # 7d / 1w / weekly: Monday at the reset time, today when it is Monday and still ahead
    ("7d", "2026-03-11T10:00", "UTC", "00:00", "2026-03-16T00:00"),
    ("1w", "2026-03-11T10:00", "UTC", "00:00", "2026-03-16T00:00"),
    ("weekly", "2026-03-15T23:59", "UTC", "00:00", "2026-03-16T00:00"),
    ("7d", "2026-03-16T09:00", "UTC", "12:00", "2026-03-16T12:00"),
    ("7d", "2026-03-16T00:00", "UTC", "00:00", "2026-03-23T00:00"),
    ("7d", "2026-03-15T23:30", "America/New_York", "00:00", "2026-03-16T04:00"),  # Sunday 19:30 local
    # 30d / 1mo / monthly: the 1st at the reset time, today when it is the 1st and still ahead
    ("30d", "2026-03-11T10:00", "UTC", "00:00", "2026-04-01T00:00"),
    ("1mo", "2026-03-11T10:00", "UTC", "00:00", "2026-04-01T00:00"),
    ("monthly", "2026-12-31T23:00", "UTC", "00:00", "2027-01-01T00:00"),
    ("1mo", "2026-04-01T06:00", "UTC", "12:00", "2026-04-01T12:00"),
    ("30d", "2026-01-31T23:30", "Europe/Berlin", "00:00", "2026-02-28T23:00"),  # already Feb 1 in Berlin
    # other Nd (and 2w = 14d): midnight today + N days, at the reset time; not a fixed grid
    ("2w", "2026-03-11T10:00", "UTC", "00:00", "2026-03-25T00:00"),
    ("2d", "2026-03-10T23:59", "UTC", "00:00", "2026-03-12T00:00"),
    ("10d", "2026-03-10T23:00", "UTC", "06:00", "2026-03-20T06:00"),
    ("31d", "2026-03-10T10:00", "UTC", "00:00", "2026-04-10T00:00"),
    # Nh: the next multiple of N hours from local midnight; past 23 it wraps onto tomorrow
    ("6h", "2026-03-10T13:30", "UTC", "00:00", "2026-03-10T18:00"),
    ("6h", "2026-03-10T18:00", "UTC", "00:00", "2026-03-11T00:00"),
    ("5h", "2026-03-10T22:30", "UTC", "00:00", "2026-03-11T01:00"),
    ("48h", "2026-03-10T10:00", "UTC", "00:00", "2026-03-11T00:00"),  # tomorrow, not in two days
    ("36h", "2026-03-10T10:00", "UTC", "00:00", "2026-03-11T12:00"),
    ("1h", "2026-03-10T10:10", "Asia/Kolkata", "00:00", "2026-03-10T10:30"),  # 15:40 IST -> 16:00 IST
    ("1h", "2026-03-10T10:10", "UTC", "12:00", "2026-03-10T11:00"),  # the reset time is for days only
    # Nm: the next multiple of N within the hour; Ns within the minute
    ("15m", "2026-03-10T10:07", "UTC", "00:00", "2026-03-10T10:15"),
    ("45m", "2026-03-10T10:50", "UTC", "00:00", "2026-03-10T11:30"),
    ("90m", "2026-03-10T23:00", "UTC", "00:00", "2026-03-11T00:30"),
    ("1500m", "2026-03-10T10:00", "UTC", "00:00", "2026-03-11T11:00"),
    ("3000m", "2026-03-10T10:00", "UTC", "00:00", "2026-03-11T12:00"),  # 50 h later? no: tomorrow
    ("30s", "2026-03-10T10:00:45", "UTC", "00:00", "2026-03-10T10:01:00"),
    ("45s", "2026-03-10T10:00:50", "UTC", "00:00", "2026-03-10T10:01:30"),
    ("61s", "2026-03-10T10:00:00", "UTC", "00:00", "2026-03-10T10:01:01"),
    # unknown units and unparsable text: the next midnight (the reset time is ignored)
    ("1month", "2026-03-10T10:00", "UTC", "12:00", "2026-03-11T00:00"),
    ("30days", "2026-03-10T10:00", "UTC", "00:00", "2026-03-11T00:00"),
    ("1dxyz", "2026-03-10T10:00", "UTC", "00:00", "2026-03-11T00:00"),
    ("1d xyz", "2026-03-10T09:00", "UTC", "12:00", "2026-03-10T12:00"),  # `d` then a blank: a day
    ("abc", "2026-03-10T10:00", "Europe/Berlin", "00:00", "2026-03-10T23:00"),
    # DST, Europe/Berlin, spring forward 2026-03-29 01:00 UTC (02:00 CET -> 03:00 CEST)
    ("1d", "2026-03-28T12:00", "Europe/Berlin", "00:00", "2026-03-28T23:00"),
    ("1d", "2026-03-28T23:00", "Europe/Berlin", "00:00", "2026-03-29T22:00"),  # a 23-hour day
    ("1h", "2026-03-29T00:30", "Europe/Berlin", "00:00", "2026-03-29T01:00"),  # 02:00 does not exist
    ("1d", "2026-03-28T12:00", "Europe/Berlin", "02:30", "2026-03-29T01:30"),  # 02:30 -> 03:30 CEST
    # DST, America/New_York, fall back 2026-11-01 06:00 UTC (02:00 EDT -> 01:00 EST)
    ("1d", "2026-10-31T12:00", "America/New_York", "00:00", "2026-11-01T04:00"),
    ("1d", "2026-11-01T04:00", "America/New_York", "00:00", "2026-11-02T05:00"),  # a 25-hour day
    ("30m", "2026-11-01T05:10", "America/New_York", "00:00", "2026-11-01T05:30"),  # 01:10 EDT -> 01:30 EDT
    ("30m", "2026-11-01T06:10", "America/New_York", "00:00", "2026-11-01T06:30"),  # 01:10 EST -> 01:30 EST
    ("1d", "2026-10-31T12:00", "America/New_York", "01:30", "2026-11-01T05:30"),
    ("1d", "2026-11-01T06:15", "America/New_York", "01:30", "2026-11-01T06:30"),  # twice that day, an hour apart
]


@pytest.mark.parametrize(("duration", "seconds"), SECONDS)
def test_seconds(duration: str, seconds: int) -> None:
    assert duration_seconds(duration) == seconds
    assert validate(duration) == duration


@pytest.mark.parametrize(("now", "seconds"), MONTHS)
def test_month_is_the_calendar_month_from_now(now: str, seconds: int) -> None:
    assert duration_seconds("1mo", at(now)) == seconds


@pytest.mark.parametrize("duration", REJECTED)
def test_rejected(duration: str) -> None:
    with pytest.raises(InvalidDuration):
        validate(duration, now=at("2026-03-10T10:00"))


@pytest.mark.parametrize("duration", ACCEPTED_ODD)
def test_accepted_by_prefix_but_reset_at_midnight(duration: str) -> None:
    now = at("2026-03-10T10:00")
    assert validate(duration, now=now) == duration
    assert next_reset(duration, now, ResetPolicy(reset_time="12:00")) == at("2026-03-11T00:00")


@pytest.mark.parametrize(("duration", "now", "zone", "reset_time", "expected"), NEXT)
def test_next_reset(duration: str, now: str, zone: str, reset_time: str, expected: str) -> None:
    result = next_reset(duration, at(now), ResetPolicy(zone, reset_time))
    assert result == at(expected)
    assert result.utcoffset() == timedelta(0)


# (duration, budget_reset_at UTC, timezone, reset time, the boundary before it UTC, or None: not on the grid)
PREVIOUS = [
    # 1d: the reset time of day before
    ("1d", "2026-03-11T00:00", "UTC", "00:00", "2026-03-10T00:00"),
    ("1d", "2026-03-11T12:00", "UTC", "12:00", "2026-03-10T12:00"),
    ("1d", "2026-03-11T00:00", "UTC", "12:00", None),  # midnight is no boundary at a 12:00 reset time
    ("daily", "2026-03-11T00:00", "UTC", "12:00", "2026-03-10T00:00"),  # 24h ignores the reset time
    # 7d / 1w / weekly: the Monday before
    ("7d", "2026-03-16T00:00", "UTC", "00:00", "2026-03-09T00:00"),
    ("1w", "2026-03-16T00:00", "UTC", "00:00", "2026-03-09T00:00"),
    ("weekly", "2026-03-16T12:00", "UTC", "12:00", "2026-03-09T12:00"),
    ("7d", "2026-03-17T00:00", "UTC", "00:00", None),  # a Tuesday
    # 30d / 1mo / monthly: the 1st before, whatever the month's length (not 30 days back)
    ("30d", "2026-03-01T00:00", "UTC", "00:00", "2026-02-01T00:00"),  # February: 28 days
    ("30d", "2026-02-01T00:00", "UTC", "00:00", "2026-01-01T00:00"),  # January: 31 days
    ("monthly", "2026-04-01T00:00", "UTC", "00:00", "2026-03-01T00:00"),
    ("1mo", "2026-04-01T00:00", "UTC", "00:00", "2026-03-01T00:00"),
    ("1mo", "2026-08-01T00:00", "UTC", "00:00", "2026-07-01T00:00"),
    ("1mo", "2027-01-01T00:00", "UTC", "00:00", "2026-12-01T00:00"),
    ("1mo", "2028-03-01T06:00", "UTC", "06:00", "2028-02-01T06:00"),  # leap February
    ("30d", "2026-02-20T13:37", "UTC", "00:00", None),  # an older LiteLLM's now + 30 days
    # other Nd (and 2w): the reset time N days before
    ("3d", "2026-03-13T00:00", "UTC", "00:00", "2026-03-10T00:00"),
    ("2w", "2026-03-25T00:00", "UTC", "00:00", "2026-03-11T00:00"),
    ("10d", "2026-03-20T06:00", "UTC", "06:00", "2026-03-10T06:00"),
    ("3d", "2026-03-13T05:00", "UTC", "00:00", None),
    # Nh: multiples of N from local midnight; 20:00 + 5h wraps to 01:00 (LiteLLM's _handle_hour_reset),
    # so the 5h window ending 05:00 began at 01:00, and 00:00 is no 5h boundary
    ("5h", "2026-03-11T05:00", "UTC", "00:00", "2026-03-11T01:00"),
    ("5h", "2026-03-11T01:00", "UTC", "00:00", "2026-03-10T20:00"),
    ("5h", "2026-03-10T15:00", "UTC", "00:00", "2026-03-10T10:00"),
    ("5h", "2026-03-11T00:00", "UTC", "00:00", None),
    ("7h", "2026-03-11T07:00", "UTC", "00:00", "2026-03-11T04:00"),
    ("6h", "2026-03-11T00:00", "UTC", "00:00", "2026-03-10T18:00"),
    ("48h", "2026-03-11T00:00", "UTC", "00:00", "2026-03-10T00:00"),  # 48h resets every midnight
    ("8760h", "2026-03-11T00:00", "UTC", "00:00", "2026-03-10T00:00"),  # a year's hours: daily, 730 steps back
    ("100000h", "2026-03-11T16:00", "UTC", "00:00", None),  # daily at 16:00, but more than MAX_WALK steps back
    # Nm within the hour, Ns within the minute
    ("15m", "2026-03-10T10:15", "UTC", "00:00", "2026-03-10T10:00"),
    ("45m", "2026-03-10T11:30", "UTC", "00:00", "2026-03-10T10:45"),
    ("45m", "2026-03-10T10:45", "UTC", "00:00", "2026-03-10T10:30"),  # :30 -> :45 -> :30 -> ...: :00 only starts it
    ("30s", "2026-03-10T10:01:00", "UTC", "00:00", "2026-03-10T10:00:30"),
    ("45s", "2026-03-10T10:01:30", "UTC", "00:00", "2026-03-10T10:00:45"),
    ("15m", "2026-03-10T10:07", "UTC", "00:00", None),
    # an unknown unit resets at midnight: its window is a day, not 30 days
    ("30days", "2026-03-11T00:00", "UTC", "00:00", "2026-03-10T00:00"),
    # another timezone: UTC midnight is no Berlin midnight
    ("1d", "2026-03-11T00:00", "Europe/Berlin", "00:00", None),
    ("1d", "2026-03-10T23:00", "Europe/Berlin", "00:00", "2026-03-09T23:00"),
    # DST, Europe/Berlin, spring forward 2026-03-29 01:00 UTC (02:00 CET -> 03:00 CEST)
    ("1d", "2026-03-29T22:00", "Europe/Berlin", "00:00", "2026-03-28T23:00"),  # a 23-hour window
    ("1d", "2026-03-29T01:30", "Europe/Berlin", "02:30", "2026-03-28T01:30"),  # 02:30 fell into the gap: 03:30 CEST
    ("7d", "2026-03-29T22:00", "Europe/Berlin", "00:00", "2026-03-22T23:00"),
    ("3d", "2026-03-30T22:00", "Europe/Berlin", "00:00", "2026-03-27T23:00"),
    ("30d", "2026-03-31T22:00", "Europe/Berlin", "00:00", "2026-02-28T23:00"),
    ("1h", "2026-03-29T01:00", "Europe/Berlin", "00:00", "2026-03-29T00:00"),  # 01:00 CET -> 03:00 CEST
    ("1s", "2026-03-29T01:00", "Europe/Berlin", "00:00", "2026-03-29T00:59:59"),
    # DST, America/New_York, fall back 2026-11-01 06:00 UTC: 01:00 EDT -> 02:00 EST is two hours
    ("1h", "2026-11-01T07:00", "America/New_York", "00:00", "2026-11-01T05:00"),
    ("1d", "2026-11-02T05:00", "America/New_York", "00:00", "2026-11-01T04:00"),  # a 25-hour window
]


@pytest.mark.parametrize(("duration", "reset_at", "zone", "reset_time", "expected"), PREVIOUS)
def test_previous_boundary(duration: str, reset_at: str, zone: str, reset_time: str, expected: str | None) -> None:
    result = previous_boundary(duration, at(reset_at), ResetPolicy(zone, reset_time))
    assert result == (None if expected is None else at(expected))
    if result is not None:
        assert result.utcoffset() == timedelta(0)
        assert next_reset(duration, result, ResetPolicy(zone, reset_time)) == at(reset_at)


def test_previous_boundary_of_a_naive_time_is_utc() -> None:
    assert previous_boundary("monthly", datetime(2026, 4, 1)) == at("2026-03-01T00:00")


@pytest.mark.parametrize("duration", ["abc", "0d", "2mo"])
def test_previous_boundary_of_an_unusable_duration_is_invalid(duration: str) -> None:
    with pytest.raises(InvalidDuration):
        previous_boundary(duration, at("2026-04-01T00:00"))


def test_naive_now_is_utc() -> None:
    assert next_reset("1d", datetime(2026, 3, 10, 15)) == at("2026-03-11T00:00")


def test_number_too_long_is_invalid_not_a_crash() -> None:
    with pytest.raises(InvalidDuration):
        validate("9" * 5000 + "s")


@pytest.mark.parametrize(("text", "expected"), [("00:00", time(0)), ("12:00", time(12)), ("9:30:15", time(9, 30, 15)),
                                                ("7:5", time(7, 5)), ("23:59:59", time(23, 59, 59))])
def test_reset_time(text: str, expected: time) -> None:
    assert ResetPolicy(reset_time=text).time_of_day() == expected


@pytest.mark.parametrize("text", ["24:00", "noon", "12", " 12:00", "12:00 ", "12:60", "12:00:60", "", "12.00"])
def test_bad_reset_time(text: str) -> None:
    with pytest.raises(InvalidInput):
        ResetPolicy(reset_time=text).time_of_day()


def test_unknown_timezone_is_an_error_not_utc() -> None:
    # LiteLLM silently falls back to UTC; a typo on dbctl's command line should not.
    with pytest.raises(InvalidInput, match="Mars/Olympus"):
        next_reset("1d", at("2026-03-10T10:00"), ResetPolicy("Mars/Olympus"))


# -- properties ---------------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham",
         "America/Santiago", "America/St_Johns", "Asia/Tehran", "Africa/Casablanca"]
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC))
reset_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
zones = st.sampled_from(ZONES)
valid = st.one_of(
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(1, 500), st.sampled_from("smhdw")),
    st.sampled_from(["1mo", "hourly", "daily", "weekly", "monthly", "30days", "1month"]),
)


def policy_of(zone: str, reset_time: time) -> ResetPolicy:
    return ResetPolicy(zone, reset_time.strftime("%H:%M"))


@settings(max_examples=400, deadline=None)
@given(valid, moments, zones, reset_times)
def test_next_reset_is_in_the_future(duration: str, now: datetime, zone: str, reset_time: time) -> None:
    result = next_reset(duration, now, policy_of(zone, reset_time))
    assert result > now
    assert result.tzinfo is UTC


def _aligned(wall: datetime, duration: str, reset_time: time) -> bool:
    if duration in ("1d", "7d", "1w", "30d", "1mo"):
        calendar_ok = {"7d": wall.weekday() == 0, "1w": wall.weekday() == 0, "30d": wall.day == 1,
                       "1mo": wall.day == 1}.get(duration, True)
        return calendar_ok and wall.time() == reset_time
    value, unit = int(duration[:-1]), duration[-1]
    if unit == "h":
        return (wall.minute, wall.second) == (0, 0) and wall.hour % value == 0
    if unit == "m":
        return wall.second == 0 and wall.minute % value == 0
    return wall.second % value == 0


grid = st.sampled_from(["1d", "7d", "1w", "30d", "1mo", "1h", "2h", "3h", "4h", "6h", "8h", "12h",
                        "1m", "5m", "10m", "15m", "20m", "30m", "1s", "10s", "15s", "30s"])


@settings(max_examples=400, deadline=None)
@given(grid, moments, zones, reset_times)
def test_next_reset_is_aligned_in_local_time(duration: str, now: datetime, zone: str, reset_time: time) -> None:
    """On the grid in the zone's wall clock; a grid time inside a DST gap lands at the gap's end."""
    result = next_reset(duration, now, policy_of(zone, reset_time))
    wall = result.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    gap = result.astimezone(ZoneInfo(zone)).utcoffset() - (result - timedelta(hours=3)).astimezone(ZoneInfo(zone)).utcoffset()
    assert _aligned(wall, duration, reset_time) or (gap > timedelta(0) and _aligned(wall - gap, duration, reset_time))


@settings(max_examples=400, deadline=None)
@given(grid, moments, zones, reset_times)
@example("1m", datetime(2036, 10, 19, 2, 0, tzinfo=UTC), "Africa/Casablanca", time(0, 0))  # a repeated hour's end
def test_the_window_ending_next_holds_now(duration: str, now: datetime, zone: str, reset_time: time) -> None:
    """On a grid that does not depend on where it starts (`grid`; not other `Nd`, `84s` or `242h`,
    whose windows run from the moment that set them, so may begin after `now`): the window ending at
    the next reset is always found, in every zone, and began at or before `now`. Inside a repeated
    hour a boundary can follow two others (01:00 EDT and 01:00 EST both lead to 02:00 EST); the one
    found still began at or before `now`."""
    policy = policy_of(zone, reset_time)
    following = next_reset(duration, now, policy)
    start = previous_boundary(duration, following, policy)
    assert start is not None
    assert start <= now < following
    assert next_reset(duration, start, policy) == following


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["1d", "7d", "1mo", "6h"]), st.integers(1990, 2050), zones, reset_times)
def test_windows_keep_their_wall_clock_time_across_dst(duration: str, year: int, zone: str, reset_time: time) -> None:
    """Chained resets through a whole year stay on the same local time (23/25-hour days, not drift)."""
    tz = ZoneInfo(zone)
    policy = policy_of(zone, reset_time)
    moment = datetime(year, 1, 1, 12, tzinfo=UTC)
    steps = {"1d": 366, "7d": 53, "1mo": 12, "6h": 4 * 366}[duration]
    for _ in range(steps):
        following = next_reset(duration, moment, policy)
        assert following > moment
        wall = following.astimezone(tz)
        expected = time(0) if duration == "6h" else reset_time
        if wall.time() != expected and not (duration == "6h" and wall.hour % 6 == 0 and wall.minute == 0):
            # only a reset time inside that night's DST gap may move, and only by the gap
            jump = wall.utcoffset() - (following - timedelta(hours=3)).astimezone(tz).utcoffset()
            assert jump > timedelta(0)
            assert (wall - jump).time() == expected or (wall - jump).hour % 6 == 0
        moment = following


def test_module_api_is_stable() -> None:
    """The provisioning engineer calls these: names and signatures stay."""
    assert callable(durations.validate) and callable(durations.next_reset) and callable(durations.duration_seconds)
    assert ResetPolicy().timezone == "UTC" and ResetPolicy().reset_time == "00:00"
    assert issubclass(InvalidDuration, InvalidInput)
