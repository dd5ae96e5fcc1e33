"""Time as dbctl's API speaks it (aware UTC) and as LiteLLM's columns hold it (naive UTC, ms).

LiteLLM's timestamps are PostgreSQL `timestamp(3)`: UTC wall time without a zone, to the
millisecond (Prisma's DateTime). A value dbctl writes or compares is cut to the millisecond here,
so what it reports is what the column holds (PostgreSQL would round the microseconds instead) and
a comparison with `now` draws the line where a proxy's own would. No I/O.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import overload

UTC = timezone.utc


def now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


@overload
def utc_naive(moment: datetime) -> datetime: ...
@overload
def utc_naive(moment: None) -> None: ...
def utc_naive(moment: datetime | None) -> datetime | None:
    """As a `timestamp(3)` column holds it: an aware time converted to UTC wall time (never left to
    the session's TimeZone), a naive one taken as UTC already; cut to the millisecond. None stays None."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def utc_aware(moment: datetime) -> datetime:
    """A database timestamp (naive, UTC) or any aware time as aware UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
