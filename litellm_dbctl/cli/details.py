"""The output of `user|team|org show`: one object, then tables of what belongs to it."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import typer

from litellm_dbctl.cli import common

# A key row as `key list` reads it (token shortened), in a user's or team's keys section.
KEY_COLUMNS = ["token", "key_alias", "key_name", "user_id", "team_id", "spend", "max_budget", "budget_duration",
               "budget_reset_at", "expires", "blocked", "models", "created_at"]


class Section(NamedTuple):
    """One table of a show command after the object itself: every column (CSV), and the ones a table shows."""

    title: str
    rows: Sequence[Mapping[str, Any]]
    columns: Sequence[str]
    shown: Sequence[str]


def render(ctx: typer.Context, record: Mapping[str, Any], sections: Sequence[Section], payload: Any) -> None:
    """A show command's output. JSON: `payload`. CSV: the object as one row, then each section as a
    CSV table of its own, header row first even when it has no rows, separated by a blank line, so
    every table is there in a fixed order. Table: the object as field/value lines, then each section
    that has rows, titled."""
    s = common.settings(ctx)
    if s.output == "json":
        common.emit(ctx, (), json_payload=payload)
        return
    if s.output == "csv":
        common.emit(ctx, [record], list(record))
        for section in sections:
            sys.stdout.write("\n")
            common.emit(ctx, section.rows, section.columns)
        return
    common.emit(ctx, [{"field": k, "value": v} for k, v in record.items()], ["field", "value"], prose=["value"])
    for section in sections:
        common.emit(ctx, section.rows, section.shown, title=section.title, whole=["token"])  # a key's short hash
