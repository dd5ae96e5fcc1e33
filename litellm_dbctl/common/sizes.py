"""Storage sizes as operators write them (`500GB`, `1.5 TiB`, `750MB`) and as dbctl prints them.

Units are powers of 1024, as PostgreSQL's pg_size_pretty prints them and as LiteLLM reads its
`maximum_spend_logs_size` setting: the number read off `dbctl logs size` is the number to configure.
"""

from __future__ import annotations

import math
import re

from litellm_dbctl.common.errors import InvalidInput

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$", re.IGNORECASE)
UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
MAXIMUM = 1024**6  # an exbibyte: larger than any disk, small enough for a bigint


def parse(text: str, *, option: str) -> int:
    """Bytes of `text` (`500GB`, `512 MiB`, `1.5TB`, `1048576`); InvalidInput naming `option` otherwise."""
    if "\x00" in text:
        raise InvalidInput(f"{option}: must not contain a NUL character")
    match = _SIZE.match(text.strip())
    if match is None:
        raise InvalidInput(f"{option} {text[:40]!r}: expected a size such as 500GB, 750MB or 1.5TB (units of 1024)")
    value = float(match.group(1)) * UNITS[match.group(2).lower()]
    if not math.isfinite(value) or value < 1 or value > MAXIMUM:
        raise InvalidInput(f"{option} {text[:40]!r}: must be between 1 byte and 1 EiB")
    return int(value)


def pretty(size: float | None) -> str:
    """`12 GB`, `3.4 MB`, `512 bytes`, in pg_size_pretty's units; `-` for unknown."""
    if size is None:
        return "-"
    for unit, step in (("PB", 1024**5), ("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if abs(size) >= step:
            value = size / step
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{int(size)} bytes"
