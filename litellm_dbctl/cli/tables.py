"""Tables as a person reads them: the one renderer behind every table dbctl prints.

A token (an id, hash, email, model name, timestamp, number) is never broken across lines. In a pipe,
and with `--wide`, every cell is whole and each row is one line as wide as it needs (greppable). On a
terminal the table fits its width: numbers, dates and timestamps stay whole, other cells are cut
with an ellipsis (…) down to MIN_WIDTH columns; prose columns (`wrap`) wrap at spaces instead; when
even that does not fit, columns are left out (the caller says which on stderr). Numbers are
right-aligned, text left. Timestamps have one format, with their zone: `2026-12-07 05:10:00Z`.
Pure functions, no rich: `layout` and `render` are tested without a terminal.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, NamedTuple

ELLIPSIS = "…"
GAP = 2  # spaces between columns
MIN_WIDTH = 10  # a cut cell keeps at least this many columns: "8f14e45fc…" is still recognisable
MIN_PROSE = 24  # a prose column is not wrapped narrower than this
BOLD, RESET = "\x1b[1m", "\x1b[0m"
_ASCII = re.compile(r"[\x00-\x7f]+")


class Percent(float):
    """A share in percent (12.5 is shown `12.5%`), right-aligned like any number."""


def terminal_width() -> int | None:
    """Columns of the terminal stdout writes to (COLUMNS overrides what the terminal says), or None
    for a pipe or file. TTY_COMPATIBLE=1 renders as for a terminal anyway and =0 as for a pipe (rich's
    convention, for CI logs and for checking what a terminal shows)."""
    forced = os.environ.get("TTY_COMPATIBLE", "")
    if forced == "0" or (forced != "1" and not sys.stdout.isatty()):
        return None
    return max(shutil.get_terminal_size().columns, 20)


def when(moment: datetime) -> str:
    """The timestamp format of every table: `2026-12-07 05:10:00Z` in UTC, `2026-12-07 06:10:00+01:00`
    in another zone (the moment's own: a command showing another zone converts first). A naive value is
    UTC (LiteLLM's columns are timestamps without a zone, in UTC)."""
    local = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
    offset = local.utcoffset() or timedelta(0)
    if not offset:
        return local.strftime("%Y-%m-%d %H:%M:%SZ")
    sign, rest = ("-", -offset) if offset < timedelta(0) else ("+", offset)
    hours, seconds = divmod(int(rest.total_seconds()), 3600)
    return f"{local:%Y-%m-%d %H:%M:%S}{sign}{hours:02d}:{seconds // 60:02d}"


def cell(value: Any) -> str:
    """One value as table text (on one line: line breaks and tabs become spaces)."""
    if value is None:
        return ""
    if isinstance(value, Percent):
        return f"{value:,.1f}%"
    if isinstance(value, (float, Decimal)):
        number = float(value)
        return f"{number:,.4f}".rstrip("0").rstrip(".") if abs(number) < 1e15 else str(number)
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict)):
        value = json.dumps(value, ensure_ascii=False, default=_json_default)
    text = str(value)
    return text if text.isprintable() else "".join(c if c.isprintable() else " " for c in text)


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def width(text: str) -> int:
    """Columns `text` takes on a terminal: East Asian wide and full-width characters (and most
    emoji) take two, combining marks none."""
    if text.isascii():
        return len(text)
    wider = _ASCII.sub("", text)  # only the other characters need a look (an ellipsis, a name in Greek)
    return len(text) - len(wider) + sum(_char_width(c) for c in wider)


def _char_width(char: str) -> int:
    return 0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in "WF" else 1


def cut(text: str, columns: int) -> str:
    """`text` in at most `columns` columns: whole when it fits, else its start and an ellipsis."""
    if width(text) <= columns:
        return text
    if text.isascii():
        return text[:max(columns - 1, 0)] + ELLIPSIS
    kept, used = [], 0
    for char in text:
        used += _char_width(char)
        if used > columns - 1:
            break
        kept.append(char)
    return "".join(kept) + ELLIPSIS


def wrap(text: str, columns: int, *, cut_words: bool = True) -> list[str]:
    """`text` in lines of at most `columns` columns, broken at spaces only; a word longer than a
    line is cut with an ellipsis (or with `cut_words=False` left whole on a line of its own), never
    split."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        word = cut(word, columns) if cut_words else word
        if current and width(current) + 1 + width(word) <= columns:
            current += " " + word
        else:
            if current:
                lines.append(current)
            current = word
    lines.append(current)
    return lines


def sentence(text: str, columns: int | None) -> str:
    """A line of prose for a terminal of `columns` (None: a pipe, left as it is): each line longer
    than the terminal broken at spaces, so the terminal does not break a word."""
    if columns is None:
        return text
    return "\n".join(part for line in text.split("\n")
                     for part in ([line] if width(line) <= columns else wrap(line, columns, cut_words=False)))


class Layout(NamedTuple):
    """Widths of the columns shown (by index), and the indexes of the columns left out."""

    widths: dict[int, int]
    hidden: list[int]


def layout(natural: Sequence[int], minimum: Sequence[int], available: int | None,
           drop_order: Sequence[int] = ()) -> Layout:
    """Column widths for a table whose columns want `natural` widths and can shrink to `minimum`,
    in `available` columns (None: no limit) with GAP between columns. The widest columns give way
    first; when even the minimums do not fit, columns in `drop_order` are left out until they do."""
    shown = list(range(len(natural)))
    if available is None or _total(natural, shown) <= available:
        return Layout({i: natural[i] for i in shown}, [])
    hidden: list[int] = []
    for index in drop_order:
        if _total(minimum, shown) <= available:
            break
        if index in shown and len(shown) > 1:
            shown.remove(index)
            hidden.append(index)
    room = available - GAP * (len(shown) - 1)
    low, high = 0, max(natural[i] for i in shown)  # the largest cap every column can be cut to
    while low < high:
        level = (low + high + 1) // 2
        if sum(max(minimum[i], min(natural[i], level)) for i in shown) <= room:
            low = level
        else:
            high = level - 1
    widths = {i: max(minimum[i], min(natural[i], low)) for i in shown}
    spare = room - sum(widths.values())
    for i in shown:  # what the cap leaves over goes to cut columns, left to right
        if spare <= 0:
            break
        extra = min(spare, natural[i] - widths[i])
        widths[i] += extra
        spare -= extra
    return Layout(widths, hidden)


def _total(widths: Sequence[int], shown: Sequence[int]) -> int:
    return sum(widths[i] for i in shown) + GAP * (len(shown) - 1)


class Rendered(NamedTuple):
    lines: list[str]
    hidden: list[str]  # headers of the columns left out to fit the terminal


def render(records: Sequence[Mapping[str, Any]], columns: Sequence[str], *, available: int | None,
           headers: Mapping[str, str] | None = None, title: str | None = None, prose: Sequence[str] = (),
           whole: Sequence[str] = (), optional: Sequence[str] = (), bold: bool = False) -> Rendered:
    """The lines of a table of `records` in `available` columns (None: as wide as it needs).

    `prose`: columns of sentences, wrapped at spaces on a terminal. `whole`: columns never cut (a
    hash to copy). `optional`: the columns to leave out first when the table cannot fit; after
    them, columns are left out from the right (never the first, nor a `whole` one)."""
    names = [(headers or {}).get(c, c) for c in columns]
    values = [[r.get(c) for c in columns] for r in records]
    cells = [[cell(v) for v in row] for row in values]
    numeric = [_all(values, i, _is_number) for i in range(len(columns))]
    fixed = [numeric[i] or _all(values, i, lambda v: isinstance(v, (date, datetime))) or columns[i] in whole
             for i in range(len(columns))]
    widest = [max([0] + [width(row[i]) for row in cells]) for i in range(len(columns))]
    natural = [max(width(names[i]), widest[i]) for i in range(len(columns))]
    floor = [MIN_PROSE if columns[i] in prose else MIN_WIDTH for i in range(len(columns))]
    # a fixed column keeps its cells whole; its header (a model name heading a column) may be cut
    minimum = [min(natural[i], max(widest[i], floor[i]) if fixed[i] else floor[i]) for i in range(len(columns))]
    order = [columns.index(c) for c in optional if c in columns]
    order += [i for i in reversed(range(1, len(columns))) if i not in order and columns[i] not in whole]
    plan = layout(natural, minimum, available, order)
    shown = [i for i in range(len(columns)) if i in plan.widths]

    def lines_of(row: Sequence[str], wrapping: bool = True) -> list[str]:
        parts = {i: (wrap(row[i], plan.widths[i]) if wrapping and columns[i] in prose and width(row[i]) > plan.widths[i]
                     else [cut(row[i], plan.widths[i])]) for i in shown}
        height = max(len(p) for p in parts.values())
        out = []
        for n in range(height):
            texts = []
            for i in shown:
                text = parts[i][n] if n < len(parts[i]) else ""
                pad = " " * (plan.widths[i] - width(text))
                texts.append(pad + text if numeric[i] else text + pad)
            out.append((" " * GAP).join(texts).rstrip())
        return out

    header = lines_of(names, wrapping=False)[0]
    lines = [title] if title else []
    lines.append(f"{BOLD}{header}{RESET}" if bold else header)
    for row in cells:
        lines.extend(lines_of(row))
    return Rendered(lines, [names[i] for i in plan.hidden])


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _all(rows: Sequence[Sequence[Any]], index: int, test: Any) -> bool:
    present = [row[index] for row in rows if row[index] is not None]
    return bool(present) and all(test(v) for v in present)
