"""Tables as a person sees them: every list/show/status/report command rendered into a terminal of
100 columns never splits an identifier across lines (cut with an ellipsis instead), `--wide` and
pipes show every identifier whole; numbers right, text left, one timestamp format, `%` on percents.
The layout itself is checked without a database."""

from __future__ import annotations

import hashlib
import io
import os
import pty
import re
import subprocess
import sys
from contextlib import redirect_stdout
from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock

import fix_budget as fx
import pytest
from helpers import ROOT, CliResult, Database
from hypothesis import given, settings
from hypothesis import strategies as st

from litellm_dbctl.cli import tables

COLUMNS = 100
ORG = "org-7c1e5a0b-9f3d-4e21-b6a8-2d5c4f1e9a37-finance-emea"
ORG_ALIAS = "emea-finance-organization-for-regulated-workloads"
TEAM = "team-3f9a1c2e-8b7d-4a6f-9e5c-1d2b3a4c5d6e-payments"
TEAM_ALIAS = "payments-platform-emea-production-workloads"
USER = "user-5e8d2c1a-4b3f-4e6d-8a9c-0f1e2d3c4b5a-konstantinopoulou"
EMAIL = "alexandra.konstantinopoulou@finance-department.example-corporation.com"
KEY_ALIAS = "rag-ingestion-production-eu-west-1-primary-payments"
MODEL = "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0-long-context"
REQUEST = "chatcmpl-9f8e7d6c5b4a39281706f5e4d3c2b1a0-retrieval-augmented"
DAY = datetime(2026, 11, 13, 9, 30)
PERIOD = ["--since", "2026-11-13", "--until", "2026-11-13T23:59:59"]
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?[^\s,)]*")
ONE_FORMAT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)")
PREFIX = 12  # characters that make a token of the data recognisable (a cut cell keeps 9)
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# command -> the identifiers its table must carry (whole in a pipe and with --wide)
COMMANDS: list[tuple[list[str], list[str]]] = [
    (["key", "list"], [KEY_ALIAS, USER, TEAM]),
    (["key", "list", "--full-hash"], ["TOKEN", KEY_ALIAS]),
    (["user", "list"], [USER, EMAIL, TEAM]),
    (["user", "show", EMAIL], [USER, EMAIL, TEAM, TEAM_ALIAS, ORG, KEY_ALIAS]),
    (["team", "list"], [TEAM, TEAM_ALIAS, ORG]),
    (["team", "show", TEAM_ALIAS], [TEAM, TEAM_ALIAS, ORG, USER, EMAIL, KEY_ALIAS]),
    (["org", "list"], [ORG, ORG_ALIAS]),
    (["org", "show", ORG_ALIAS], [ORG, ORG_ALIAS, USER, EMAIL, TEAM, TEAM_ALIAS]),
    (["budget", "status", "--all"], [KEY_ALIAS, TEAM, ORG, USER]),
    (["spend", "summary", "--source", "logs", *PERIOD], []),
    (["spend", "top", "--by", "team", "--source", "logs", *PERIOD], [TEAM_ALIAS]),
    (["spend", "top", "--by", "user", "--source", "logs", *PERIOD], [EMAIL]),
    (["spend", "top", "--by", "model", "--source", "logs", *PERIOD], [MODEL]),
    (["spend", "daily", "--by", "model", "--source", "logs", *PERIOD], [MODEL]),
    (["spend", "logs", *PERIOD], [REQUEST, KEY_ALIAS, EMAIL, TEAM_ALIAS, MODEL]),
    (["daily", "check", "--details", "--since", "2026-11-13", "--until", "2026-11-13"], [TEAM, MODEL, "TOKEN"]),
    (["daily", "reconcile", "--dry-run", "--since", "2026-11-13", "--until", "2026-11-13"], []),
    (["migrate", "status", "-v"], ["20250326162113_baseline"]),
    (["queries", "list"], ["budget/status"]),
    (["db", "status"], []),
    (["db", "doctor"], []),
]


@pytest.fixture
def seeded(cli, db: Database) -> dict[str, str]:
    """One organization, team, user and key with long ids, an email and a model name, and spend logs
    of that key (a failure among them) that the daily tables do not have yet (daily check drifts)."""
    assert cli("org", "provision", "--org-id", ORG, "--alias", ORG_ALIAS, "--max-budget", "1000").code == 0
    assert cli("team", "provision", "--team-id", TEAM, "--alias", TEAM_ALIAS, "--org", ORG, "--max-budget", "500",
               "--budget-duration", "30d").code == 0
    assert cli("user", "provision", "--user-id", USER, "--email", EMAIL, "--team", f"{TEAM}:admin", "--org", ORG,
               "--max-budget", "100").code == 0
    raw = cli("key", "create", "--user", USER, "--team", TEAM, "--alias", KEY_ALIAS, "--models", MODEL,
              "--max-budget", "50", "--budget-duration", "1d", "--duration", "90d").stdout.strip()
    token = hashlib.sha256(raw.encode()).hexdigest()
    for n in range(3):
        fx.spend_log(db, f"{REQUEST}" if n == 0 else f"req-{n}", DAY + timedelta(minutes=n), 1.25 * (n + 1),
                     api_key=token, model=MODEL, user=USER, team_id=TEAM, organization_id=ORG,
                     custom_llm_provider="bedrock", prompt_tokens=1200, completion_tokens=300, total_tokens=1500,
                     status="failure" if n == 2 else "success",
                     metadata='{"status": "failure"}' if n == 2 else '{"status": "success"}')
    db.execute('UPDATE "LiteLLM_VerificationToken" SET spend = 3.75')
    return {"TOKEN": token}


def _run(cli: Any, args: list[str], *, terminal: bool, wide: bool = False) -> CliResult:
    env = {"TTY_COMPATIBLE": "1" if terminal else "0", "COLUMNS": str(COLUMNS)}
    return cli("--no-color", *(["--wide"] if wide else []), *args, env=env)


def _screen(text: str) -> list[str]:
    """What a terminal of COLUMNS columns shows: every line longer than it continues on the next."""
    rows = []
    for line in ANSI.sub("", text).splitlines():
        while tables.width(line) > COLUMNS:
            rows.append(line[:COLUMNS])
            line = line[COLUMNS:]
        rows.append(line)
    return rows


def _split(token: str, rows: list[str], short: int = 0) -> bool:
    """Somewhere the token starts but goes on neither to its end nor to an ellipsis (nor stops after
    `short` characters, a key hash's documented short form): broken."""
    text = "\n".join(rows)
    for found in re.finditer(r"(?<![\w.@/:-])" + re.escape(token[:PREFIX]), text):  # where a token starts
        matched = PREFIX
        while matched < len(token) and text[found.start() + matched:found.start() + matched + 1] == token[matched]:
            matched += 1
        after = text[found.start() + matched:found.start() + matched + 1]
        if matched < len(token) and after != tables.ELLIPSIS and not (matched == short and after in ("", " ", "\n")):
            return True
    return False


@pytest.mark.slow
def test_every_table_fits_100_columns_without_splitting_an_identifier(cli, seeded: dict[str, str]) -> None:
    identifiers = [ORG, ORG_ALIAS, TEAM, TEAM_ALIAS, USER, EMAIL, KEY_ALIAS, MODEL, REQUEST, seeded["TOKEN"]]
    for args, expected in COMMANDS:
        expected = [seeded.get(e, e) for e in expected]
        on_terminal = _run(cli, args, terminal=True)
        assert on_terminal.code in (0, 1, 3), (args, on_terminal)
        screen = _screen(on_terminal.stdout)
        assert all(tables.width(row) <= COLUMNS for row in ANSI.sub("", on_terminal.stdout).splitlines()), \
            (args, on_terminal.stdout)
        for token in identifiers + expected:
            short = 12 if token == seeded["TOKEN"] else 0  # `key list` and `show` cut it so, as in JSON
            assert not _split(token, screen, short), (args, token, on_terminal.stdout)
        wide = _run(cli, args, terminal=True, wide=True)
        piped = _run(cli, args, terminal=False)
        assert tables.ELLIPSIS not in piped.stdout and tables.ELLIPSIS not in wide.stdout, (args, piped.stdout)
        for token in expected:
            assert token in piped.stdout and token in wide.stdout, (args, token, piped.stdout)
        for output in (on_terminal.stdout, piped.stdout):
            for stamp in TIMESTAMP.finditer(output):
                assert ONE_FORMAT.fullmatch(stamp.group()), (args, stamp.group(), output)


def test_full_hash_is_whole_on_a_terminal_and_the_rest_makes_room(cli, seeded: dict[str, str]) -> None:
    shown = _run(cli, ["key", "list", "--full-hash"], terminal=True)
    assert shown.code == 0, shown
    row = _screen(shown.stdout)[1]
    assert row.startswith(seeded["TOKEN"] + " ") and tables.width(row) <= COLUMNS, shown.stdout
    assert "left out to fit 100 columns" in shown.stderr  # and said so
    cut = _run(cli, ["key", "list"], terminal=True)
    assert cut.stdout.splitlines()[1].startswith(seeded["TOKEN"][:12] + " "), cut.stdout  # the short form, whole


def test_daily_check_details_is_one_line_per_row(cli, seeded: dict[str, str]) -> None:
    args = ["daily", "check", "--details", "--since", "2026-11-13", "--until", "2026-11-13"]
    details = _run(cli, [*args, "--json"], terminal=True).json()["rows"]
    shown = _run(cli, args, terminal=True)
    assert shown.code == 3, shown
    lines = shown.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("date") and "status" in line)
    end = next(i for i, line in enumerate(lines) if line.startswith("drift in"))
    assert len(lines[start + 1:end]) == len(details) == 3, shown.stdout  # user, team and org rows
    assert all(tables.width(line) <= COLUMNS for line in lines)


def test_show_aligns_text_left_and_failures_carry_a_percent(cli, seeded: dict[str, str]) -> None:
    shown = _run(cli, ["user", "show", EMAIL], terminal=True).stdout.splitlines()
    fields = [line.split(None, 1) for line in shown[1:shown.index("teams")]]
    value_column = {len(line) - len(parts[1]) for line, parts in zip(shown[1:], fields) if len(parts) == 2}
    assert len(value_column) == 1, shown  # text, numbers and timestamps alike start in one column
    user = cli("user", "show", EMAIL, "--json").json()["user"]  # JSON keeps ISO 8601, now always with its zone
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", user["created_at"]), user
    summary = _run(cli, ["spend", "summary", "--source", "logs", *PERIOD], terminal=False).stdout
    assert re.search(r"failed\s+1 \(33\.3%\)", summary), summary
    top = _run(cli, ["spend", "top", "--by", "team", "--source", "logs", *PERIOD], terminal=False).stdout
    assert "100.0%" in top and "33.3%" in top, top


def test_a_real_terminal_is_detected(db: Database, seeded: dict[str, str]) -> None:
    """No TTY_COMPATIBLE: a pseudo-terminal of 100 columns gets the fitted table, a pipe the whole one."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": str(COLUMNS)}
    env.pop("TTY_COMPATIBLE", None)
    args = [sys.executable, "-m", "litellm_dbctl", "--database-url", db.url, "--no-color", "user", "list"]
    master, slave = pty.openpty()
    child = subprocess.Popen(args, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert child.wait(timeout=60) == 0
    os.close(master)
    assert tables.ELLIPSIS in output.decode() and EMAIL not in output.decode()
    piped = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    assert EMAIL in piped.stdout and tables.ELLIPSIS not in piped.stdout


# -- the layout, without a database ----------------------------------------------------------------


def test_one_timestamp_format_with_its_zone() -> None:
    assert tables.when(datetime(2026, 12, 7, 5, 10, 0, 123456)) == "2026-12-07 05:10:00Z"  # naive: UTC
    assert tables.when(datetime(2026, 12, 7, 5, 10, tzinfo=timezone.utc)) == "2026-12-07 05:10:00Z"
    assert tables.when(datetime(2026, 12, 7, 5, 10, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))) \
        == "2026-12-07 05:10:00-05:30"
    assert tables.cell(tables.Percent(2.345)) == "2.3%" and tables.cell(1234.5) == "1,234.5"


words = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Cf", "Co", "Zs", "Zl", "Zp", "Mn", "Me"),
                              blacklist_characters=tables.ELLIPSIS), min_size=1, max_size=30)


def _on_terminal(records: list[dict[str, Any]], columns: list[str], available: int,
                 **policy: Any) -> tuple[list[str], tables.Shown]:
    """What `tables.write` draws on a terminal of `available` columns (rich told so by TTY_COMPATIBLE)."""
    out = io.StringIO()
    with mock.patch.dict(os.environ, {"TTY_COMPATIBLE": "1", "COLUMNS": str(available)}), redirect_stdout(out):
        shown = tables.write(records, columns, color=False, **policy)
    return out.getvalue().splitlines(), shown


@given(st.lists(words, min_size=1, max_size=12), st.integers(min_value=tables.MIN_PROSE, max_value=60))
@settings(max_examples=200, deadline=None)
def test_prose_wraps_only_at_spaces(sentence: list[str], columns: int) -> None:
    lines, _ = _on_terminal([{"text": " ".join(sentence)}], ["text"], columns, prose=["text"])
    assert all(tables.width(line) <= columns for line in lines)
    # rich pads a cut before a double-width character with a space ("ab …"): still one cut word
    pieces = [p for line in lines[1:] for p in re.sub(" +" + tables.ELLIPSIS, tables.ELLIPSIS, line.rstrip(" ")).split(" ")]
    rest = iter(sentence)
    for piece in pieces:  # each a word, whole or cut with an ellipsis, in order: never split nor invented
        assert any(piece == word or (piece.endswith(tables.ELLIPSIS) and word.startswith(piece[:-1]))
                   for word in rest), (piece, lines)
    if all(tables.width(word) == len(word) for word in sentence):  # a line ending exactly on a double-width
        assert len(pieces) == len(sentence), lines  # character may hide the next word behind its ellipsis


IDENT = st.text("abcdefghij-0123456789", min_size=1, max_size=80)


@given(st.lists(st.tuples(st.sampled_from(["id", "number", "whole", "prose"]), IDENT, st.integers(1, 80)),
                min_size=1, max_size=8),
       st.integers(min_value=20, max_value=200))
@settings(max_examples=150, deadline=None)
def test_a_fitted_table_fits_keeps_fixed_cells_whole_and_cuts_with_an_ellipsis(
        kinds: list[tuple[str, str, int]], available: int) -> None:
    columns = [f"{kind}{n}" for n, (kind, _, _) in enumerate(kinds)]
    record = {c: (10 ** (length % 15) if kind == "number" else " ".join([text] * (length % 4 + 1)) if kind == "prose"
                  else text) for c, (kind, text, length) in zip(columns, kinds)}
    whole = [c for c in columns if c.startswith("whole")]
    shorter = {c: v // 10 if isinstance(v, int) else v[:len(v) // 2] for c, v in record.items()}  # rich lays out by the widest
    lines, shown = _on_terminal([shorter, record, shorter], columns, available, whole=whole,
                                prose=[c for c in columns if "prose" in c])
    hidden = set(shown.hidden)
    assert columns[0] not in hidden and not hidden & set(whole)
    kept = [c for c in columns if c not in hidden]

    def least(shown: list[str]) -> int:  # fixed cells whole, others cut to MIN_WIDTH, prose to MIN_PROSE
        return sum(len(tables.cell(record[c])) if c.startswith(("number", "whole"))
                   else min(len(max(c, tables.cell(record[c]), key=len)), tables.MIN_PROSE if "prose" in c
                            else tables.MIN_WIDTH) for c in shown) + tables.GAP * (len(shown) - 1)

    if least(columns) <= available:
        assert not hidden, lines  # a column is left out only when even the least of all cannot fit
    if least(kept) <= available:  # else only columns that may not be left out remain, wider than the terminal
        assert all(tables.width(line) <= available for line in lines), lines
    natural = sum(max(len(c), len(tables.cell(record[c]))) for c in columns) + tables.GAP * (len(columns) - 1)
    if natural <= available:
        assert not hidden and tables.ELLIPSIS not in "\n".join(lines)
    body = "\n".join(lines[1:])  # the widest row's cells, whole or cut: never split
    for c in kept:
        if c.startswith(("number", "whole")):
            assert tables.cell(record[c]) in body, (c, lines)  # whole, on one line
        elif not c.startswith("prose"):
            assert record[c] in body or any(piece.endswith(tables.ELLIPSIS) and record[c].startswith(piece[:-1])
                                            for piece in body.split()), (c, lines)


def test_numbers_right_text_left_and_a_mixed_column_left() -> None:
    rows = [{"name": "a", "n": 5, "value": "text"}, {"name": "bb", "n": 12345, "value": 3.5}]
    assert tables.render(rows, ["name", "n", "value"]) == ["name      n  value", "a         5  text", "bb    12345  3.5"]
    lines, _ = _on_terminal(rows, ["name", "n", "value"], 100)
    assert [line.rstrip() for line in lines] == ["name      n  value", "a         5  text", "bb    12345  3.5"]
