"""A length of time typed on the command line: one grammar for every flag that waits or looks back
(--lock-timeout, --settle, --statement-lock-timeout, --statement-timeout, --old-transaction) and for
the relative forms of --since/--until (common.periods).

A span is a number and a unit: `500ms`, `30s`, `15m` (also `15min`), `2h`, `1d`, `1w`; a decimal
fraction is allowed (`0.5s`), blanks around it are not significant. A number without a unit meant
the flag's own unit before units were required (seconds for --lock-timeout, minutes for budget
sync's --settle): `parse` still reads it so, for one release, and says so (`bare`) for the caller to
warn. Budget windows (`budget_duration`: `1mo`, `daily`) are LiteLLM's grammar, in common.durations.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from litellm_dbctl.common.checks import InvalidValue

UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|min|s|m|h|d|w)?")
EXAMPLES = "e.g. 500ms, 30s, 15m, 2h, 1d"


@dataclass(frozen=True)
class Span:
    seconds: float
    bare: bool = False  # given without a unit, read in the flag's former unit
    text: str = ""  # the span as it should be written (`30s` for a bare `30`)


def parse(text: str, *, former_unit: str | None, maximum: float) -> Span:
    """`text` as a span of at most `maximum` seconds. A bare number is read in `former_unit` (None:
    the flag never took one, so it is refused). Raises InvalidValue saying what a span looks like."""
    value = text.strip()
    match = _SPAN.fullmatch(value)
    if not match or (match.group(2) is None and former_unit is None):
        raise InvalidValue(f"{text[:40]!r} is not a duration with a unit ({EXAMPLES})")
    number, unit = match.group(1), match.group(2) or former_unit
    assert unit is not None
    seconds = float(number) * UNITS[unit]
    if not math.isfinite(seconds) or seconds > maximum:
        raise InvalidValue(f"{value[:40]!r} is too long: at most {shown(maximum)}")
    return Span(seconds, bare=match.group(2) is None, text=f"{number}{unit}")


def shown(seconds: float) -> str:
    """`86400` -> `1d`, `90` -> `90s`: the largest unit that divides it, for messages and help."""
    for unit in ("w", "d", "h", "m", "s"):
        count = seconds / UNITS[unit]
        if count >= 1 and count == int(count):
            return f"{int(count)}{unit}"
    return f"{seconds * 1000:g}ms"


def postgres(seconds: float) -> str:
    """The span as a PostgreSQL time setting (lock_timeout, statement_timeout): whole milliseconds,
    rounded up so that a positive span never becomes 0 (which PostgreSQL reads as no limit)."""
    millis = math.ceil(seconds * 1000)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"
