"""The checks every input's values pass: spec files, budgets.yaml, command-line flags, proxy configs.

Each check takes a value as read (a YAML/JSON scalar, a parsed flag) and returns it normalised, or
raises `InvalidValue` with a message that names no place: the caller knows where the value came
from and prefixes it (`file:line: users[3].max_budget: ...`, `--max-budget: ...`). `flag` does that
for a command-line option. What PostgreSQL would refuse later, as a database error after other
statements ran, is refused here: NaN, infinities and numbers past a column's range, NUL characters,
lone surrogates (not UTF-8), JSON nested without end.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TypeVar

from litellm_dbctl.common import clock, durations
from litellm_dbctl.common.errors import InvalidInput

BIGINT_MAX = 2**63 - 1  # PostgreSQL bigint: tpm_limit, rpm_limit
INTEGER_MAX = 2**31 - 1  # PostgreSQL integer: max_parallel_requests
JSON_DEPTH = 64  # nesting a JSON value may have (metadata): deeper is a mistake, not data
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

T = TypeVar("T")
R = TypeVar("R")


class InvalidValue(ValueError):
    """A value a check refused; its message says why, not where."""


def shown(value: object) -> str:
    """A wrong value in a message: its kind, and a scalar's text (a list or mapping is not echoed)."""
    if value is None:
        return "null"
    if isinstance(value, (bool, int, float, str)):
        return f"{type(value).__name__} {value!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def number(value: object) -> float:
    """A non-negative amount (a budget in USD) a double precision column holds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValue(f"expected a number, got {shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValue(f"must be a finite number, not {value!r}")
    if value < 0:
        raise InvalidValue(f"must not be negative: {value!r}")
    try:
        return float(value)
    except OverflowError:  # an int past the largest double
        raise InvalidValue(f"too large: at most {sys.float_info.max:g}") from None


def whole(value: object, *, maximum: int = BIGINT_MAX) -> int:
    """A non-negative count (a limit) its integer column holds (bigint unless `maximum` says less)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(f"expected a whole number, got {shown(value)}")
    if value < 0:
        raise InvalidValue(f"must not be negative: {value!r}")
    if value > maximum:
        raise InvalidValue(f"too large: at most {maximum}")
    return value


NUMBER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
WHOLE_TEXT = re.compile(r"^[+-]?\d+$")
# The strings pydantic's lax mode (LiteLLM's request models) takes for a boolean.
TRUE_TEXT = frozenset({"true", "t", "yes", "y", "on", "1"})
FALSE_TEXT = frozenset({"false", "f", "no", "n", "off", "0"})


def numeric_text(value: T, *, whole: bool = False) -> T | int | float:
    """A number written as a string (`max_budget: "100"`, as litellm-as-code's files and LiteLLM's
    request models take it) as that number; anything else unchanged, for the number checks to judge.
    Only plain decimal spellings count: "nan", "inf", "1_000" and hex stay strings (and are refused)."""
    if not isinstance(value, str):
        return value
    stripped = value.strip()
    if (WHOLE_TEXT if whole else NUMBER_TEXT).match(stripped):
        return int(stripped) if WHOLE_TEXT.match(stripped) else float(stripped)
    return value


def boolean_text(value: T) -> T | bool:
    """A boolean written as a string ("true", "false", "yes", "0", ...: what pydantic, and so LiteLLM,
    accepts) as that boolean; anything else unchanged."""
    if isinstance(value, str):
        folded = value.strip().lower()
        if folded in TRUE_TEXT:
            return True
        if folded in FALSE_TEXT:
            return False
    return value


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(f"expected true or false, got {shown(value)}")
    return value


def text(value: object) -> str:
    """A string PostgreSQL's text holds: no NUL character, nothing that is not UTF-8."""
    if not isinstance(value, str):
        raise InvalidValue(f"expected a string, got {shown(value)}" +
                           (" (quote it)" if isinstance(value, (int, float, bool)) else ""))
    if "\x00" in value:
        raise InvalidValue("must not contain a NUL character")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidValue("not valid UTF-8 (a lone surrogate)") from None
    return value


def name(value: object) -> str:
    """An id or alias: text with its surrounding blanks removed, not empty."""
    stripped = text(value).strip()
    if not stripped:
        raise InvalidValue("must not be empty")
    return stripped


def email(value: object) -> str:
    address = text(value).strip()
    if not EMAIL.match(address):
        raise InvalidValue(f"not an email address: {address!r}")
    return address


def choice(value: object, options: Sequence[str], *, what: str = "role") -> str:
    """One of `options` (a role), exactly as written."""
    given = text(value)
    if given not in options:
        raise InvalidValue(f"unknown {what} {given!r} (expected one of: {', '.join(options)})")
    return given


def duration(value: object, *, policy: durations.ResetPolicy = durations.UTC_MIDNIGHT) -> str:
    """A budget window LiteLLM accepts (`budget_duration`): 30s, 1h, 1d, 7d, 1mo, daily, ..."""
    if not isinstance(value, str):  # `30` wants a unit, not quotes: say what a duration looks like
        raise InvalidValue(f"expected a duration ({durations.EXAMPLES}), got {shown(value)}")
    given = text(value)
    try:
        return durations.validate(given, policy)
    except InvalidInput as exc:
        raise InvalidValue(exc.message) from None


def lifetime(value: object) -> str:
    """A key's lifetime (`duration`): LiteLLM's duration_in_seconds grammar, longer than zero."""
    given = text(value)
    try:
        seconds = durations.duration_seconds(given)
    except InvalidInput as exc:
        raise InvalidValue(exc.message) from None
    if seconds <= 0:
        raise InvalidValue(f"invalid duration {given!r}: must be longer than zero")
    try:  # the expiry (now + lifetime) must be a date Python and PostgreSQL hold
        clock.now() + timedelta(seconds=seconds)
    except OverflowError:
        raise InvalidValue(f"invalid duration {given.strip()[:40]!r}: the expiry would be past year 9999") from None
    return given.strip()


def json_value(value: T) -> T:
    """A value stored as JSON (metadata) that PostgreSQL's jsonb holds: finite numbers, no NUL,
    bounded nesting. The message names the path inside the value."""
    _json(value, "", 0)
    return value


def json_text(value: str) -> object:
    """JSON text as typed on a command line, parsed and passed through `json_value`."""
    try:
        parsed = json.loads(text(value))
    except RecursionError:  # the decoder recurses per level: far past JSON_DEPTH
        raise InvalidValue(f"value: nested more than {JSON_DEPTH} levels deep") from None
    except ValueError as exc:
        raise InvalidValue(f"not JSON: {exc}") from None
    return json_value(parsed)


def _json(value: object, path: str, depth: int) -> None:
    if depth > JSON_DEPTH:
        raise InvalidValue(f"{path or 'value'}: nested more than {JSON_DEPTH} levels deep")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValue(f"{path or 'value'}: must be a finite number, not {value!r}")
    if isinstance(value, str):
        try:
            text(value)
        except InvalidValue as exc:
            raise InvalidValue(f"{path or 'value'}: {exc}") from None
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _json(key, path, depth + 1)
            _json(item, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, (list, tuple)):
        for n, item in enumerate(value):
            _json(item, f"{path}[{n}]", depth + 1)


def flag(option: str, value: T | None, check: Callable[[T], R]) -> R | None:
    """A command-line option's value checked (None when not given): InvalidInput naming the option."""
    if value is None:
        return None
    try:
        return check(value)
    except InvalidValue as exc:
        raise InvalidInput(f"{option}: {exc}") from None


def zone(name: str) -> str:
    """An IANA time zone name LiteLLM's `timezone` setting may hold (durations.zone's rule)."""
    try:
        durations.zone(name)
    except InvalidInput as exc:
        raise InvalidValue(str(exc)) from None
    return name


def reset_time(text: str) -> str:
    """LiteLLM's `budget_reset_time`: 24-hour HH:MM or HH:MM:SS (durations.parse_reset_time's rule)."""
    try:
        durations.parse_reset_time(text)
    except InvalidInput as exc:
        raise InvalidValue(str(exc)) from None
    return text
