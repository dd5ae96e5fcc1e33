"""Tables as a person reads them: the one place that decides how every dbctl table looks.

A token (an id, hash, email, model name, timestamp, number) is never broken across lines. In a pipe,
and with `--wide`, every cell is whole and each row is one line as wide as it needs (greppable): a
plain writer, fast for 100k rows. On a terminal rich draws the table in the terminal's width: numbers,
dates and timestamps stay whole, other cells are cut with an ellipsis (…) down to MIN_WIDTH columns,
prose columns wrap at spaces; when even that does not fit, columns are left out (the caller says which
on stderr). Numbers are right-aligned, text left. Timestamps have one format, with their zone:
`2026-12-07 05:10:00Z`. What is an identifier, prose or optional, and what to leave out first, is
dbctl's policy (here); measuring, cutting and padding on a terminal are rich's. rich is imported only
when something is drawn on a terminal (or a piped cell is not ASCII: rich.cells measures it).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

ELLIPSIS = "…"
GAP = 2  # spaces between columns
MIN_WIDTH = 10  # a cut cell keeps at least this many columns: "8f14e45fc…" is still recognisable
MIN_PROSE = 24  # a prose column is not wrapped narrower than this


class Percent(float):
    """A share in percent (12.5 is shown `12.5%`), right-aligned like any number."""


def console(*, color: bool = False) -> Console:
    """rich's console on stdout: it tells a terminal from a pipe (TTY_COMPATIBLE=1/0 and FORCE_COLOR
    override, for CI logs) and the terminal's width (COLUMNS overrides)."""
    from rich.console import Console

    return Console(file=sys.stdout, no_color=not color, highlight=False, markup=False, emoji=False,
                   soft_wrap=False)


def terminal_width() -> int | None:
    """Columns of the terminal stdout writes to, or None for a pipe or file (rich decides; rich is not
    imported when nothing could make it say terminal)."""
    if not sys.stdout.isatty() and not {"TTY_COMPATIBLE", "FORCE_COLOR"} & os.environ.keys():
        return None
    shown = console()
    return shown.width if shown.is_terminal else None


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
    """Columns `text` takes on a terminal (rich's measure; ASCII, the usual case, without rich)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def sentence(text: str, columns: int | None) -> str:
    """A line of prose for a terminal of `columns` (None: a pipe, left as it is): each line longer
    than the terminal broken at spaces by rich; a word longer than a whole line (an id fits one) is
    folded where the terminal would break it anyway."""
    if columns is None or all(width(line) <= columns for line in text.split("\n")):
        return text
    from rich.text import Text

    return "\n".join(line.plain.rstrip(" ") for line in Text(text).wrap(console(), columns, overflow="fold"))


class _Plan(NamedTuple):
    """dbctl's reading of a table: its headers and cells, and per column whether it is numeric
    (right-aligned), fixed (cells never cut: numbers, dates, `whole`) or prose (wrapped)."""

    names: list[str]
    cells: list[list[str]]
    numeric: list[bool]
    fixed: list[bool]
    prose: list[bool]


def _plan(records: Sequence[Mapping[str, Any]], columns: Sequence[str], headers: Mapping[str, str] | None,
          prose: Sequence[str], whole: Sequence[str]) -> _Plan:
    values = [[r.get(c) for c in columns] for r in records]
    numeric = [_all(values, i, _is_number) for i in range(len(columns))]
    return _Plan(
        names=[(headers or {}).get(c, c) for c in columns],
        cells=[[cell(v) for v in row] for row in values],
        numeric=numeric,
        fixed=[numeric[i] or _all(values, i, lambda v: isinstance(v, (date, datetime))) or columns[i] in whole
               for i in range(len(columns))],
        prose=[c in prose for c in columns],
    )


def render(records: Sequence[Mapping[str, Any]], columns: Sequence[str], *, headers: Mapping[str, str] | None = None,
           title: str | None = None) -> list[str]:
    """The lines of a table as wide as it needs (a pipe, `--wide`): every cell whole, one row a line,
    columns two spaces apart, numbers right-aligned. Formatting lines, not a table library: this is
    the path that must keep up with 100k rows."""
    plan = _plan(records, columns, headers, (), ())
    widths = [max([width(plan.names[i])] + [width(row[i]) for row in plan.cells]) for i in range(len(columns))]

    def line(row: Sequence[str]) -> str:
        pads = [" " * (w - width(text)) for text, w in zip(row, widths)]
        return (" " * GAP).join(pad + text if number else text + pad
                                for text, pad, number in zip(row, pads, plan.numeric)).rstrip()

    return ([title] if title else []) + [line(plan.names)] + [line(row) for row in plan.cells]


class Shown(NamedTuple):
    hidden: list[str]  # headers of the columns left out to fit the terminal
    columns: int | None  # the terminal's width (None: a pipe, or --wide)


def write(records: Sequence[Mapping[str, Any]], columns: Sequence[str], *, wide: bool = False, color: bool = True,
          headers: Mapping[str, str] | None = None, title: str | None = None, prose: Sequence[str] = (),
          whole: Sequence[str] = (), optional: Sequence[str] = ()) -> Shown:
    """A table on stdout: whole cells in a pipe and with `wide`, fitted by rich on a terminal.

    `prose`: columns of sentences, wrapped at spaces. `whole`: columns never cut (a hash to copy).
    `optional`: the columns to leave out first when even cut cells cannot fit; after them, columns are
    left out from the right (never the first, nor a `whole` one)."""
    available = None if wide else terminal_width()
    if available is None:
        sys.stdout.write("\n".join(render(records, columns, headers=headers, title=title)) + "\n")
        return Shown([], None)
    plan = _plan(records, columns, headers, prose, whole)
    # rich lays a table out by each column's widest cell: a table of these alone (the layout) is cheap
    widest_cells = [max((row[i] for row in plan.cells), key=width, default="") for i in range(len(columns))]
    widest = [width(text) for text in widest_cells]
    natural = [max(width(plan.names[i]), widest[i]) for i in range(len(columns))]
    # the least each column is given: fixed cells whole (a fixed column's header, a model name over
    # numbers, may be cut), other cells cut to MIN_WIDTH, prose wrapped to MIN_PROSE
    least = [widest[i] if plan.fixed[i] else min(natural[i], MIN_PROSE if plan.prose[i] else MIN_WIDTH)
             for i in range(len(columns))]
    order = [columns.index(c) for c in optional if c in columns]
    order += [i for i in reversed(range(1, len(columns))) if i not in order and columns[i] not in whole]
    shown = list(range(len(columns)))

    def need() -> int:  # the columns all shown at their least, two spaces apart
        return sum(least[i] for i in shown) + GAP * (len(shown) - 1)

    for index in order:  # leave out columns while even their least cannot fit
        if need() <= available:
            break
        shown.remove(index)
    out = console(color=color)
    left = [i for i in order if i in shown]
    pinned: list[int] = []
    while True:
        # rich lays out a table of the header and the widest cells and says, rendering each, the width
        # it gives the column. It levels the widest columns down without regard to their least, then
        # gives each its least back (wider than the room): those with the greatest least keep just that,
        # in turn, and rich shares the rest out again; when nothing is left to pin, one more column
        # goes. Columns that may not be left out and still do not fit are drawn wider than the terminal.
        free = sorted((i for i in shown if i not in pinned and _narrows(plan, i, least, natural)),
                      key=lambda i: -least[i])
        room = max(available, need())
        layout = _table(plan, shown, least, natural, pinned)
        probes = [_Probe(text) for text in _cells(plan, widest_cells, shown)]
        layout.add_row(*probes)
        out.render_lines(layout, out.options.update_width(room))  # each probe notes the width it is given
        given = [p.given for p in probes]
        if not (free or left) or sum(given) + GAP * (len(shown) - 1) <= room:
            break
        if free:
            pinned.append(free[0])
        else:
            shown.remove(left.pop(0))
            pinned.clear()
    from rich.segment import Segments

    if title:
        out.print(title, overflow="ignore", crop=False)
    table = _table(plan, shown, least, natural, pinned, given, bold=color)  # rich need not measure every cell
    for row in plan.cells:
        table.add_row(*_cells(plan, row, shown))
    # rendered in `room`, which may be wider than the terminal (print(width=) stops at the terminal's)
    out.print(Segments(out.render(table, out.options.update_width(room))), crop=False)
    return Shown([plan.names[i] for i in range(len(columns)) if i not in shown], available)


def _narrows(plan: _Plan, index: int, least: Sequence[int], natural: Sequence[int]) -> bool:
    """Whether rich may narrow the column: all but a fixed one whose header fits over its cells."""
    return not plan.fixed[index] or least[index] < natural[index]


def _table(plan: _Plan, shown: Sequence[int], least: Sequence[int], natural: Sequence[int], pinned: Sequence[int],
           given: Sequence[int] = (), *, bold: bool = False) -> Table:
    """The columns of a rich table: rich measures, shares the width out, cuts and pads. A column rich
    may narrow is one it may wrap (no_wrap=False); its cells say themselves whether they wrap (prose)
    or are cut on their one line (_cells). A pinned column has just its least; with `given`, every
    column has the width rich gave it in the layout."""
    from rich.table import Column, Table
    from rich.text import Text

    widths: list[int | None] = [*given] or [least[i] if i in pinned else None for i in shown]
    return Table(*(Column(Text(plan.names[i], no_wrap=True, overflow="ellipsis"),
                          justify="right" if plan.numeric[i] else "left", overflow="ellipsis",
                          no_wrap=not _narrows(plan, i, least, natural), min_width=least[i], width=width)
                   for i, width in zip(shown, widths)),
                 box=None, show_edge=False, pad_edge=False, header_style="bold" if bold else "")


def _cells(plan: _Plan, row: Sequence[str], shown: Sequence[int]) -> list[Text]:
    from rich.text import Text

    return [Text(row[i], no_wrap=not plan.prose[i], overflow="ellipsis") for i in shown]


class _Probe:
    """A column's widest cell in the layout table: rich measures it as the cell, and gives it, to
    render, the column's width."""

    def __init__(self, text: Text) -> None:
        self.text = text
        self.given = 0

    def __rich_measure__(self, out: Console, options: ConsoleOptions) -> Measurement:
        from rich.measure import Measurement

        return Measurement.get(out, options, self.text)

    def __rich_console__(self, out: Console, options: ConsoleOptions) -> Iterator[Text]:
        self.given = options.max_width
        yield self.text


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _all(rows: Sequence[Sequence[Any]], index: int, test: Any) -> bool:
    present = [row[index] for row in rows if row[index] is not None]
    return bool(present) and all(test(v) for v in present)
