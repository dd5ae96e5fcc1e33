"""One progress display for long commands (migrate deploy, logs prune|scrub, spend ingest): a line on
stderr, redrawn in place, only for a person at a terminal reading tables (never in pipes, JSON or -q)."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from litellm_dbctl.cli import common

WIDTH = 30  # characters of the bar itself
LINE = 100  # characters cleared when the bar is closed


class Bar:
    """`bar(done, total, label)` as a library's progress callback; `close()` wipes the line."""

    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.shown = False

    def __call__(self, done: int, total: int, label: object = None) -> None:
        filled = int(WIDTH * min(done, total) / max(total, 1))
        name = str(getattr(label, "name", label)) if label is not None else ""
        text = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {done:,}/{total:,} {self.unit} {name[:40]}"
        sys.stderr.write(f"\r{text:<{LINE - 1}}")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * LINE + "\r")
            sys.stderr.flush()


def bar(ctx: typer.Context, unit: str) -> Optional[Bar]:
    """A Bar when stderr is a terminal and the output is a table without -q; else None (no display)."""
    s = common.settings(ctx)
    return Bar(unit) if sys.stderr.isatty() and not s.quiet and s.output == "table" else None
