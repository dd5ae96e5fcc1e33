"""The one progress display long commands share (cli/progress.py): a line redrawn in place, wiped at the end."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from litellm_dbctl.cli import progress


def test_the_bar_fills_with_the_work_done_and_names_what_it_is_at(capsys: pytest.CaptureFixture[str]) -> None:
    bar = progress.Bar("rows")
    bar(0, 10, "2026-01-01")
    bar(5, 10, SimpleNamespace(name="20250326162113_baseline"))  # a migration: its name
    bar(12, 10)  # more than the total (rows logged meanwhile) never overfills
    shown = capsys.readouterr().err.split("\r")[1:]
    assert shown[0].startswith("[" + "." * progress.WIDTH + "] 0/10 rows 2026-01-01")
    assert shown[1].startswith("[" + "#" * 15 + "." * 15 + "] 5/10 rows 20250326162113_baseline")
    assert shown[2].startswith("[" + "#" * progress.WIDTH + "] 12/10 rows")
    assert all(len(line) == progress.LINE - 1 for line in shown)  # each redraw covers the one before
    bar.close()
    assert capsys.readouterr().err == "\r" + " " * progress.LINE + "\r"


def test_a_bar_never_shown_leaves_nothing_to_wipe(capsys: pytest.CaptureFixture[str]) -> None:
    progress.Bar("records").close()
    assert capsys.readouterr().err == ""
