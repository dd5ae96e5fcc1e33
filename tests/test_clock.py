"""common.clock: the one conversion between dbctl's aware UTC and LiteLLM's timestamp(3) columns (no database)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from litellm_dbctl.common import clock, durations

UTC = timezone.utc


def test_utc_naive_is_utc_wall_time_to_the_millisecond() -> None:
    berlin = timezone(timedelta(hours=2))
    assert clock.utc_naive(datetime(2026, 6, 10, 14, 0, 0, 123456, tzinfo=berlin)) == datetime(2026, 6, 10, 12, 0, 0, 123000)
    assert clock.utc_naive(datetime(2026, 6, 10, 12, 0, 0, 999999)) == datetime(2026, 6, 10, 12, 0, 0, 999000)  # cut, not rounded
    assert clock.utc_naive(None) is None


def test_utc_aware_reads_naive_as_utc_and_converts_other_zones() -> None:
    assert clock.utc_aware(datetime(2026, 6, 10, 12)) == datetime(2026, 6, 10, 12, tzinfo=UTC)
    moment = clock.utc_aware(datetime(2026, 6, 10, 14, tzinfo=timezone(timedelta(hours=2))))
    assert moment == datetime(2026, 6, 10, 12, tzinfo=UTC) and moment.tzinfo == UTC


def test_now_is_aware_utc() -> None:
    assert clock.now().tzinfo == UTC


def test_one_implementation() -> None:
    assert durations.utc_naive is clock.utc_naive and durations.utc_aware is clock.utc_aware
