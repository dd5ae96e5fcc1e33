"""`dbctl spend` on a small generated dataset, against answers computed here in Python from the raw
spend logs with LiteLLM's daily-table rules (reference §1.2-1.4, §1.9), for both sources."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import shlex
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from datagen import Shape, generate
from dbpool import Dropper
from helpers import ROOT, CliResult, Database, database_url, invoke
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from litellm_dbctl.cli.spend import bar
from litellm_dbctl.common import periods
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.spend import report

END = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)  # the data covers 2026-11-11 .. this moment
PERIOD = ["--since", "2026-11-13", "--until", "2026-11-18"]  # whole UTC days 13..18
FIRST, LAST = date(2026, 11, 13), date(2026, 11, 18)
SHAPE = Shape(keys=25, users=10, teams=6, orgs=3, models=8, tags=8, end_users=12, agents=3)
METRICS = ("spend", "prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
           "requests", "successful_requests", "failed_requests")


@pytest.fixture(scope="module")
def data(server_url: str, template: str, dropper: Dropper) -> Iterator[Database]:
    """4000 generated requests over 10 days, shared by the read-only tests of this module."""
    name = f"dbctl_spend_{uuid.uuid4().hex[:10]}"
    admin = Database(server_url)
    admin.create(name, template=template)
    url = database_url(server_url, name)
    generate(url, 4000, 10, 11, end=END, workers=1, shape=SHAPE)
    yield Database(url, name=name)
    dropper.drop(name)


@pytest.fixture
def scratch(server_url: str, data: Database, dropper: Dropper) -> Iterator[Database]:
    """A writable copy of the dataset, for tests that add odd rows."""
    name = f"dbctl_spend_w_{uuid.uuid4().hex[:10]}"
    admin = Database(server_url)
    admin.create(name, template=data.name)
    yield Database(database_url(server_url, name), name=name)
    dropper.drop(name)


def run(db: Database, *args: str) -> CliResult:
    return invoke(["--database-url", db.url, "spend", *args])


# -- the reference implementation: LiteLLM's rules, in Python ---------------------------------------


def is_caller(meta: dict[str, Any]) -> bool:
    """Not an internal call (Python truthiness of the JSON value) and not a billed retry (JSON true)."""
    return not meta.get("internal_call_origin") and meta.get("billed_retry_attempt") is not True


def as_int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) else 0


def cache_read(meta: dict[str, Any]) -> int:
    usage = meta.get("usage_object") or {}
    top = usage.get("cache_read_input_tokens")
    if isinstance(top, (int, float)) and top:
        return int(top)
    return as_int((usage.get("prompt_tokens_details") or {}).get("cached_tokens"))


def cache_write(meta: dict[str, Any]) -> int:
    usage = meta.get("usage_object") or {}
    top = usage.get("cache_creation_input_tokens")
    if isinstance(top, (int, float)) and top:
        return int(top)
    details = usage.get("prompt_tokens_details") or {}
    for name in ("cache_write_tokens", "cache_creation_tokens"):
        value = details.get(name)
        if isinstance(value, (int, float)) and value:
            return int(value)
    return 0


def row_tags(row: dict[str, Any]) -> list[str]:
    tags = row["request_tags"]
    if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        return list(dict.fromkeys(tags))
    return []


def metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict.fromkeys(METRICS, 0)
    out["spend"] = 0.0
    for row in rows:
        meta = row["metadata"] or {}
        caller = is_caller(meta)
        failed = meta.get("status") == "failure"
        out["spend"] += row["spend"]
        out["prompt_tokens"] += row["prompt_tokens"]
        out["completion_tokens"] += row["completion_tokens"]
        out["cache_read_input_tokens"] += cache_read(meta)
        out["cache_creation_input_tokens"] += cache_write(meta)
        out["requests"] += caller
        out["successful_requests"] += caller and not failed
        out["failed_requests"] += caller and failed
    return out


DIMENSION_OF = {
    "key": lambda r: r["api_key"], "user": lambda r: r["user"] or "", "team": lambda r: r["team_id"] or "",
    "org": lambda r: r["organization_id"] or "", "end-user": lambda r: r["end_user"] or "",
    "agent": lambda r: r["agent_id"] or "", "model": lambda r: r["model"],
    "provider": lambda r: r["custom_llm_provider"] or "",
}


def in_daily_table(by: str, row: dict[str, Any]) -> bool:
    """Whether LiteLLM writes a row of `by`'s daily table for this request."""
    if by in ("org", "end-user"):
        return bool(DIMENSION_OF[by](row))
    if by == "agent":
        return row["agent_id"] is not None
    if by == "team":
        return row["team_id"] is not None
    return True


def logs_between(db: Database, first: date = FIRST, last: date = LAST) -> list[dict[str, Any]]:
    return db.query('SELECT * FROM "LiteLLM_SpendLogs" WHERE "startTime" >= %s AND "startTime" < %s',
                    (first, last + timedelta(days=1)))


def expected_groups(rows: list[dict[str, Any]], by: str, source: str) -> dict[str, dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if by == "tag":
            for tag in row_tags(row):
                grouped[tag].append(row)
        elif source == "logs" or in_daily_table(by, row):
            grouped[DIMENSION_OF[by](row)].append(row)
    return {group: metrics(members) for group, members in grouped.items()}


def assert_metrics(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert actual["spend"] == pytest.approx(expected["spend"], rel=1e-9, abs=1e-9)
    for name in METRICS[1:]:
        assert actual[name] == expected[name], name
    rate = expected["failed_requests"] / expected["requests"] if expected["requests"] else None
    assert actual["failure_rate"] == pytest.approx(rate)


# -- summary --------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["daily", "logs"])
def test_summary_equals_the_logs_counted_by_litellms_rules(data: Database, origin: str) -> None:
    result = run(data, "summary", *PERIOD, "--source", origin, "--json")
    assert result.code == 0, result
    payload = result.json()
    rows = logs_between(data)
    assert len(rows) > 1500
    assert_metrics(payload["totals"], metrics(rows))
    assert payload["source"] == origin
    assert payload["period"]["since"] == "2026-11-13T00:00:00+00:00"
    assert payload["period"]["until"] == "2026-11-19T00:00:00+00:00"


def test_the_dataset_has_what_the_rules_are_about(data: Database) -> None:
    """Failures, internal calls, billed retries, both cache shapes and duplicate tags all occur."""
    rows = logs_between(data, date(2026, 11, 11), date(2026, 11, 20))
    metas = [r["metadata"] for r in rows]
    assert sum(m["status"] == "failure" for m in metas) > 20
    assert sum("internal_call_origin" in m for m in metas) > 5
    assert sum(m.get("billed_retry_attempt") is True for m in metas) > 5
    assert sum(bool((m.get("usage_object") or {}).get("cache_read_input_tokens")) for m in metas) > 5
    assert sum(bool(((m.get("usage_object") or {}).get("prompt_tokens_details") or {}).get("cached_tokens"))
               for m in metas) > 5
    assert sum(len(r["request_tags"]) != len(set(r["request_tags"])) for r in rows) > 5
    assert {r["call_type"] for r in rows} >= {"acompletion", "aembedding", "aresponses"}


@pytest.mark.parametrize("origin", ["daily", "logs"])
def test_combined_filters_by_name(data: Database, origin: str) -> None:
    team = data.query("""SELECT t.team_id, t.team_alias FROM "LiteLLM_TeamTable" t
                         JOIN "LiteLLM_SpendLogs" l ON l.team_id = t.team_id
                         GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1""")[0]
    model = data.value("""SELECT model FROM "LiteLLM_SpendLogs" WHERE team_id = %s
                          GROUP BY 1 ORDER BY count(*) DESC LIMIT 1""", (team["team_id"],))
    result = run(data, "summary", *PERIOD, "--source", origin, "--team", team["team_alias"], "--model", model, "--json")
    assert result.code == 0, result
    rows = [r for r in logs_between(data) if r["team_id"] == team["team_id"] and r["model"] == model]
    assert rows
    assert_metrics(result.json()["totals"], metrics(rows))
    assert result.json()["filters"]["team"][team["team_alias"]][0]["id"] == team["team_id"]


def test_filter_by_key_alias_key_name_and_user_email(data: Database) -> None:
    key = data.query("""SELECT k.token, k.key_alias, k.key_name, u.user_email, u.user_id
                        FROM "LiteLLM_VerificationToken" k JOIN "LiteLLM_UserTable" u USING (user_id)
                        WHERE k.key_alias IS NOT NULL AND u.user_email IS NOT NULL ORDER BY k.spend DESC LIMIT 1""")[0]
    rows = logs_between(data)
    by_alias = run(data, "summary", *PERIOD, "--key", key["key_alias"], "--json").json()["totals"]
    by_name = run(data, "summary", *PERIOD, "--key", key["key_name"], "--json").json()["totals"]
    assert by_alias == by_name
    assert_metrics(by_alias, metrics([r for r in rows if r["api_key"] == key["token"]]))
    by_email = run(data, "summary", *PERIOD, "--user", key["user_email"].upper(), "--source", "logs", "--json")
    assert by_email.code == 0, by_email
    assert_metrics(by_email.json()["totals"], metrics([r for r in rows if r["user"] == key["user_id"]]))


def test_tag_filter_counts_each_request_once(data: Database) -> None:
    rows = logs_between(data)
    tags = [t for t, _ in sorted(expected_groups(rows, "tag", "logs").items(), key=lambda kv: -kv[1]["requests"])][:2]
    one = run(data, "summary", *PERIOD, "--tag", tags[0], "--json")
    assert_metrics(one.json()["totals"], metrics([r for r in rows if tags[0] in row_tags(r)]))
    both = run(data, "summary", *PERIOD, "--tag", tags[0], "--tag", tags[1], "--source", "logs", "--json")
    assert_metrics(both.json()["totals"], metrics([r for r in rows if set(tags) & set(row_tags(r))]))
    refused = run(data, "summary", *PERIOD, "--tag", tags[0], "--tag", tags[1])
    assert refused.code == 2 and "--source logs" in refused.stderr


# -- top ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["daily", "logs"])
@pytest.mark.parametrize("by", report.DIMENSIONS)
def test_top_by_every_dimension(data: Database, by: str, origin: str) -> None:
    result = run(data, "top", "--by", by, "--limit", "3", *PERIOD, "--source", origin, "--json")
    assert result.code == 0, result
    payload = result.json()
    rows = logs_between(data)
    groups = expected_groups(rows, by, origin)
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1]["spend"], kv[0]))
    assert [r["id"] for r in payload["rows"]] == [group for group, _ in ranked[:3]]
    for row, (_, expected) in zip(payload["rows"], ranked):
        assert_metrics(row, expected)
        assert row["label"] and row["rank"] >= 1
    if len(ranked) > 3:
        other = payload["other"]
        assert other["groups"] == len(ranked) - 3
        assert other["spend"] == pytest.approx(sum(g["spend"] for _, g in ranked[3:]))
        assert other["requests"] == sum(g["requests"] for _, g in ranked[3:])
    else:
        assert payload["other"] is None
    if by == "tag":
        assert_metrics(payload["total"], metrics(rows))  # every request once, not the sum of the tags
        assert any("once for each tag" in note for note in payload["notes"])
        assert "once for each tag" in result.stderr
    else:
        total = metrics([r for r in rows if origin == "logs" or in_daily_table(by, r)])
        assert_metrics(payload["total"], total)


def test_top_shows_names_never_a_bare_hash(data: Database) -> None:
    keys = {k["token"]: k for k in data.query('SELECT * FROM "LiteLLM_VerificationToken"')}
    payload = run(data, "top", "--by", "key", "--limit", "50", *PERIOD, "--json").json()
    for row in payload["rows"]:
        key = keys[row["id"]]
        assert row["label"] == (f"{key['key_alias']} ({key['key_name']})" if key["key_alias"] else key["key_name"])
        assert row["id"] not in row["label"]
    table = run(data, "top", "--by", "key", "--limit", "50", *PERIOD)
    assert table.code == 0
    assert not any(token in table.stdout for token in keys)
    users = {u["user_id"]: u for u in data.query('SELECT * FROM "LiteLLM_UserTable"')}
    for row in run(data, "top", "--by", "user", *PERIOD, "--json").json()["rows"]:
        if row["id"]:
            assert row["label"] == (users[row["id"]]["user_email"] or users[row["id"]]["user_alias"])
    teams = {t["team_id"]: t["team_alias"] for t in data.query('SELECT * FROM "LiteLLM_TeamTable"')}
    labels = {r["id"]: r["label"] for r in run(data, "top", "--by", "team", *PERIOD, "--json").json()["rows"]}
    assert labels == {i: (teams[i] if i else "(no team)") for i in labels}


def test_top_table_has_other_and_total_rows(data: Database) -> None:
    result = run(data, "top", "--by", "model", "--limit", "2", *PERIOD)
    assert result.code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0].startswith("top models by spend, 2026-11-13 00:00:00Z .. 2026-11-19 00:00:00Z")
    assert any(line.strip().startswith("other (") for line in lines)
    assert lines[-1].strip().startswith("total")


def test_the_daily_tables_cannot_combine_two_entities(data: Database) -> None:
    team = data.value('SELECT team_alias FROM "LiteLLM_TeamTable" LIMIT 1')
    user = data.value('SELECT user_email FROM "LiteLLM_UserTable" WHERE user_email IS NOT NULL LIMIT 1')
    refused = run(data, "top", "--by", "team", "--user", user, *PERIOD)
    assert refused.code == 2
    assert "team and user" in refused.stderr and "--source logs" in refused.stderr
    assert run(data, "top", "--by", "org", "--team", team, *PERIOD, "--source", "logs").code == 0


# -- daily ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["daily", "logs"])
def test_daily_series_per_utc_day(data: Database, origin: str) -> None:
    result = run(data, "daily", *PERIOD, "--source", origin, "--json")
    assert result.code == 0, result
    payload = result.json()
    rows = logs_between(data)
    assert payload["days"] == [(FIRST + timedelta(days=n)).isoformat() for n in range(6)]
    assert [r["date"] for r in payload["rows"]] == payload["days"]
    for row in payload["rows"]:
        day = date.fromisoformat(row["date"])
        assert_metrics(row, metrics([r for r in rows if r["startTime"].date() == day]))


@pytest.mark.parametrize("origin", ["daily", "logs"])
def test_daily_by_model_keeps_the_top_of_the_period_plus_other(data: Database, origin: str) -> None:
    payload = run(data, "daily", *PERIOD, "--by", "model", "--limit", "2", "--source", origin, "--json").json()
    rows = logs_between(data)
    ranked = sorted(expected_groups(rows, "model", "logs").items(), key=lambda kv: (-kv[1]["spend"], kv[0]))
    top = [model for model, _ in ranked[:2]]
    assert {r["id"] for r in payload["rows"] if r["id"]} == set(top)
    for row in payload["rows"]:
        day = date.fromisoformat(row["date"])
        members = [r for r in rows if r["startTime"].date() == day
                   and ((r["model"] == row["id"]) if row["id"] else r["model"] not in top)]
        assert_metrics(row, metrics(members))
        assert (row["other_groups"] > 0) == (row["id"] is None)


def test_daily_table_draws_bars_only_on_a_terminal(data: Database) -> None:
    piped = run(data, "daily", *PERIOD, "--by", "team", "--limit", "2")
    assert piped.code == 0, piped
    assert "█" not in piped.stdout
    lines = piped.stdout.splitlines()
    assert lines[0].startswith("spend per UTC day") and "other" in lines[1]
    assert len(lines) == 2 + 6  # title, header, one row per day
    master, slave = pty.openpty()
    child = subprocess.Popen([sys.executable, "-m", "litellm_dbctl", "--database-url", data.url, "--no-color",
                              "spend", "daily", *PERIOD], stdout=slave, stderr=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"})
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
    bars = [line for line in output.decode().splitlines() if "█" in line]
    assert len(bars) == 6
    assert max(len(line.rstrip()) - len(line.rstrip().rstrip("█▏▎▍▌▋▊▉")) for line in bars) == 30


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False), st.floats(min_value=1e-3, max_value=1e6))
@settings(max_examples=200, deadline=None)
def test_bars_grow_with_the_value_and_fit_the_width(value: float, largest: float) -> None:
    value = min(value, largest)
    drawn = bar(value, largest, width=30)
    cells = len(drawn)
    assert cells <= 30
    assert (cells == 0) == (value <= 0)
    assert bar(largest, largest, width=30) == "█" * 30
    assert len(bar(value / 2, largest)) <= cells


# -- logs -----------------------------------------------------------------------------------------


def test_logs_newest_first_for_one_key_without_payload(data: Database) -> None:
    key = data.query("""SELECT token, key_alias FROM "LiteLLM_VerificationToken"
                        WHERE key_alias IS NOT NULL ORDER BY spend DESC LIMIT 1""")[0]
    result = run(data, "logs", "--key", key["key_alias"], "--since", "all", "--limit", "5", "--json")
    assert result.code == 0, result
    rows = result.json()["rows"]
    expected = data.query("""SELECT request_id FROM "LiteLLM_SpendLogs" WHERE api_key = %s
                             ORDER BY "startTime" DESC, request_id DESC LIMIT 5""", (key["token"],))
    assert [r["request_id"] for r in rows] == [e["request_id"] for e in expected]
    assert all(r["key"]["id"] == key["token"] and r["key"]["name"] == key["key_alias"] for r in rows)
    assert all("messages" not in r for r in rows)


def test_logs_one_request_with_payload(data: Database) -> None:
    row = data.query("""SELECT request_id, messages, response, metadata FROM "LiteLLM_SpendLogs"
                        WHERE messages <> '{}'::jsonb LIMIT 1""")[0]
    result = run(data, "logs", "--request-id", row["request_id"], "--show-payload", "--json")
    assert result.code == 0, result
    [found] = result.json()["rows"]
    assert found["request_id"] == row["request_id"]
    assert found["messages"] == row["messages"] and found["response"] == row["response"]
    assert found["status"] == row["metadata"]["status"]
    table = run(data, "logs", "--request-id", row["request_id"])
    assert row["request_id"] in table.stdout and "Question" not in table.stdout
    missing = run(data, "logs", "--request-id", "no-such-request")
    assert missing.code == 2 and missing.stdout == "" and "'no-such-request'" in missing.stderr  # a named look-up


def test_tz_shifts_only_what_is_shown_and_says_so_once(data: Database) -> None:
    utc = run(data, "logs", "--since", "all", "--limit", "3", "--json").json()["rows"]
    shown = run(data, "logs", "--since", "all", "--limit", "3", "--timezone", "Asia/Kolkata", "--json")
    assert shown.code == 0
    assert shown.stderr.count("UTC days") == 1
    for a, b in zip(utc, shown.json()["rows"]):
        assert a["request_id"] == b["request_id"]
        assert b["start_time"].endswith("+05:30")
        assert datetime.fromisoformat(a["start_time"]) == datetime.fromisoformat(b["start_time"])
    summary = run(data, "summary", *PERIOD, "--timezone", "America/New_York", "--json").json()
    assert summary["period"]["days"] == {"first": "2026-11-13", "last": "2026-11-18"}
    assert summary["period"]["since"] == "2026-11-12T19:00:00-05:00"
    assert run(data, "summary", "--timezone", "Mars/Olympus").code == 2


# -- export ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_spend_logs_adds_up_to_the_summary(data: Database, fmt: str, tmp_path) -> None:
    target = tmp_path / f"out.{fmt}"
    result = run(data, "export", "--source", "logs", *PERIOD, "--format", fmt, "--to", str(target))
    assert result.code == 0, result
    expected = logs_between(data)
    text = target.read_text()
    records = list(csv.DictReader(io.StringIO(text))) if fmt == "csv" else [json.loads(line) for line in text.splitlines()]
    assert sorted(r["request_id"] for r in records) == sorted(r["request_id"] for r in expected)
    assert f"exported {len(expected):,} rows" in result.stderr
    assert not list(tmp_path.glob("*.partial"))

    def flag(value: Any) -> bool:
        return value is True or value == "t"

    counted = [r for r in records if flag(r["counted_request"])]
    totals = {
        "spend": sum(float(r["spend"]) for r in records),
        "prompt_tokens": sum(int(r["prompt_tokens"]) for r in records),
        "completion_tokens": sum(int(r["completion_tokens"]) for r in records),
        "cache_read_input_tokens": sum(int(r["cache_read_input_tokens"]) for r in records),
        "cache_creation_input_tokens": sum(int(r["cache_creation_input_tokens"]) for r in records),
        "requests": len(counted),
        "successful_requests": sum(r["status"] == "success" for r in counted),
        "failed_requests": sum(r["status"] == "failure" for r in counted),
    }
    assert_metrics({**totals, "failure_rate": totals["failed_requests"] / totals["requests"]}, metrics(expected))
    assert all(r["metadata"] in ("", None) for r in records)  # only with --with-metadata
    assert "messages" not in records[0]


def test_export_with_metadata_and_a_closed_pipe(data: Database) -> None:
    result = run(data, "export", "--source", "logs", *PERIOD, "--format", "jsonl", "--with-metadata", "--key",
                 data.value('SELECT key_name FROM "LiteLLM_VerificationToken" ORDER BY spend DESC LIMIT 1'))
    assert result.code == 0, result
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records and all(r["metadata"]["user_api_key"] == records[0]["api_key"] for r in records)
    export = shlex.join([sys.executable, "-m", "litellm_dbctl", "--database-url", data.url, "spend", "export",
                         "--source", "logs", "--since", "all"])
    head = subprocess.run(f"{export} | head -c 100 > /dev/null; echo ${{PIPESTATUS[0]}}", shell=True,
                          executable="/bin/bash", capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert head.stdout.strip() == "0" and "Traceback" not in head.stderr, head


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_daily_rows_of_one_table(data: Database, fmt: str) -> None:
    team = data.value('SELECT team_alias FROM "LiteLLM_TeamTable" ORDER BY spend DESC LIMIT 1')
    team_id = data.value('SELECT team_id FROM "LiteLLM_TeamTable" WHERE team_alias = %s', (team,))
    result = run(data, "export", "--by", "team", "--team", team, *PERIOD, "--format", fmt)
    assert result.code == 0, result
    records = (list(csv.DictReader(io.StringIO(result.stdout))) if fmt == "csv"
               else [json.loads(line) for line in result.stdout.splitlines()])
    expected = data.query("""SELECT * FROM "LiteLLM_DailyTeamSpend" WHERE team_id = %s
                             AND date BETWEEN '2026-11-13' AND '2026-11-18'""", (team_id,))
    assert len(records) == len(expected) > 0
    assert {r["entity_type"] for r in records} == {"team"} and {r["entity_id"] for r in records} == {team_id}
    assert sum(float(r["spend"]) for r in records) == pytest.approx(sum(e["spend"] for e in expected))
    assert all(r["key_name"] for r in records)


# -- edges ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["summary"], ["top", "--by", "team"], ["daily"], ["daily", "--by", "key"]])
@pytest.mark.parametrize("origin", ["daily", "logs"])
def test_an_empty_period_is_zero_not_an_error(data: Database, command: list[str], origin: str) -> None:
    result = run(data, *command, "--since", "2020-01-01", "--until", "2020-01-02", "--source", origin, "--json")
    assert result.code == 0, result
    payload = result.json()
    if command == ["summary"]:
        assert payload["totals"]["spend"] == 0 and payload["totals"]["failure_rate"] is None
    elif command[0] == "top":
        assert payload["rows"] == [] and payload["other"] is None and payload["total"]["requests"] == 0
    else:
        assert payload["days"] == ["2020-01-01", "2020-01-02"]
        assert all(r["spend"] == 0 for r in payload["rows"])
    table = run(data, *command, "--since", "2020-01-01", "--until", "2020-01-02", "--source", origin)
    assert table.code == 0


@pytest.mark.parametrize(("option", "typo", "meant"), [
    ("--team", "serch", "search"), ("--model", "gpt-4o-mimi", "gpt-4o-mini"), ("--tag", "env:prd", "env:prod"),
    ("--provider", "opnai", "openai"), ("--agent", "suport-bot", "support-bot"),
])
def test_unknown_filter_values_exit_2_with_close_matches(data: Database, option: str, typo: str, meant: str) -> None:
    result = run(data, "summary", option, typo)
    assert result.code == 2, result
    # a team is named as every command names one (`no team 'serch'`); other filters by their option
    assert (f"no team {typo!r}" if option == "--team" else f"{option} {typo!r} matches no") in result.stderr
    assert repr(meant) in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_key_names_close_aliases_and_nothing_far(data: Database) -> None:
    alias = data.value('SELECT key_alias FROM "LiteLLM_VerificationToken" WHERE key_alias IS NOT NULL LIMIT 1')
    close = run(data, "top", "--by", "model", "--key", alias[:-1] + "9x")
    assert close.code == 2 and repr(alias) in close.stderr
    far = run(data, "logs", "--key", "zzzzzzzz")
    assert far.code == 2 and "no close match" in far.stderr


@pytest.mark.parametrize("args", [["--since", "7x"], ["--since", "2026-13-01"], ["--until", "all"],
                                  ["--since", "2026-11-05", "--until", "2026-11-01"], ["--source", "both"],
                                  ["--since", "7 days"]])
def test_bad_periods_and_sources_exit_2(data: Database, args: list[str]) -> None:
    result = run(data, "summary", *args)
    assert result.code == 2, result
    assert "Traceback" not in result.stderr


def test_legacy_null_and_empty_ids_are_one_group(scratch: Database) -> None:
    """Rows written before LiteLLM normalised NULL to '' (team, endpoint) add up with the new ones."""
    scratch.execute("""UPDATE "LiteLLM_DailyTeamSpend" SET team_id = NULL, endpoint = NULL
                       WHERE team_id = '' AND date = '2026-11-14'""")
    assert scratch.value("""SELECT count(*) FROM "LiteLLM_DailyTeamSpend" WHERE team_id IS NULL""") > 0
    teams = run(scratch, "top", "--by", "team", "--limit", "50", *PERIOD, "--json").json()["rows"]
    empty = [r for r in teams if r["id"] == ""]
    assert len(empty) == 1 and empty[0]["label"] == "(no team)"
    rows = [r for r in logs_between(scratch) if not r["team_id"]]
    assert_metrics(empty[0], metrics(rows))


def test_litellm_rules_on_odd_metadata(scratch: Database) -> None:
    """Truthiness of internal_call_origin, JSON true for retries, metadata status over the column, Python
    int() of float cache counts, non-string tags: the logs source counts as LiteLLM would."""
    scratch.execute('DELETE FROM "LiteLLM_SpendLogs"')
    odd = [
        ({"internal_call_origin": "0", "status": "success"}, ["a"]),  # non-empty string: internal
        ({"internal_call_origin": 0, "status": "success"}, ["a", "a"]),  # zero: a caller request
        ({"internal_call_origin": [], "billed_retry_attempt": "true", "status": "failure"}, ["b"]),  # "true" is no retry
        ({"billed_retry_attempt": True, "status": "success",
          "usage_object": {"cache_read_input_tokens": 0, "prompt_tokens_details": {"cached_tokens": 1024.9}}}, [1]),
        ({"usage_object": {"cache_read_input_tokens": 7.9, "cache_creation_input_tokens": 0,
                           "prompt_tokens_details": {"cache_write_tokens": 3}}}, "not a list"),
    ]
    for n, (meta, tags) in enumerate(odd):
        scratch.execute("""INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, prompt_tokens,
                               completion_tokens, "startTime", "endTime", model, metadata, request_tags, status)
                           VALUES (%s, 'acompletion', 'k', 1.5, 10, 5, '2026-11-15 10:00', '2026-11-15 10:00:01',
                                   'm', %s, %s, %s)""",
                        (f"odd-{n}", json.dumps(meta), json.dumps(tags), None))
    totals = run(scratch, "summary", *PERIOD, "--source", "logs", "--json").json()["totals"]
    assert totals["requests"] == 3  # rows 1, 2 and 4: 0 is internal, 3 is a billed retry
    rows = logs_between(scratch)
    assert_metrics(totals, metrics(rows))
    assert totals["cache_read_input_tokens"] == 1024 + 7 and totals["cache_creation_input_tokens"] == 3
    assert totals["failed_requests"] == 1
    tags = {r["id"]: r for r in run(scratch, "top", "--by", "tag", *PERIOD, "--source", "logs", "--json").json()["rows"]}
    assert set(tags) == {"a", "b"} and tags["a"]["spend"] == 3.0


def test_every_command_works_on_a_read_only_database(scratch: Database) -> None:
    """What a read replica allows: nothing here writes."""
    scratch.execute(f'ALTER DATABASE "{scratch.name}" SET default_transaction_read_only = on')
    for args in (["summary"], ["top", "--by", "key"], ["daily", "--by", "tag"], ["logs"], ["export"],
                 ["summary", "--source", "logs"], ["export", "--source", "logs", "--format", "jsonl"]):
        result = run(scratch, *args, "--since", "2026-11-13", "--until", "2026-11-14")
        assert result.code == 0, (args, result)


# -- the JSON schema ------------------------------------------------------------------------------

TOTALS = {*METRICS, "failure_rate"}
PERIOD_KEYS = {"since", "until", "timezone", "days"}
LABEL = {"id", "label", "name", "detail", "deleted"}


def test_json_schemas_are_stable(data: Database) -> None:
    team = data.value('SELECT team_alias FROM "LiteLLM_TeamTable" LIMIT 1')
    summary = run(data, "summary", *PERIOD, "--team", team, "--json").json()
    assert set(summary) == {"source", "period", "filters", "totals", "notes"}
    assert set(summary["period"]) == PERIOD_KEYS and set(summary["totals"]) == TOTALS
    assert set(summary["filters"]["team"][team][0]) == LABEL

    top = run(data, "top", "--by", "key", "--limit", "2", *PERIOD, "--json").json()
    assert set(top) == {"source", "period", "filters", "by", "limit", "rows", "other", "total", "notes"}
    assert set(top["rows"][0]) == {"rank", *LABEL, *TOTALS, "share"}
    assert set(top["other"]) == {"groups", *TOTALS, "share"} and set(top["total"]) == TOTALS

    daily = run(data, "daily", *PERIOD, "--by", "team", "--json").json()
    assert set(daily) == {"source", "period", "filters", "by", "limit", "days", "rows", "notes"}
    assert set(daily["rows"][0]) == {"date", "id", "label", "other_groups", *TOTALS}

    logs = run(data, "logs", "--since", "all", "--limit", "1", "--json").json()
    assert set(logs) == {"period", "rows"}
    assert set(logs["rows"][0]) == {
        "request_id", "litellm_call_id", "start_time", "end_time", "request_duration_ms", "call_type", "key", "user",
        "team", "org", "end_user", "agent", "model", "model_group", "provider", "spend", "prompt_tokens",
        "completion_tokens", "total_tokens", "status", "error_class", "error_message", "internal_call_origin",
        "billed_retry", "tags", "session_id", "cache_hit"}
    assert set(logs["rows"][0]["key"]) == {"id", "label", "name", "detail"}


@pytest.mark.parametrize("command", [["summary"], ["top", "--by", "team"], ["daily"], ["logs"]])
def test_csv_output_has_a_header_and_rows(data: Database, command: list[str]) -> None:
    result = run(data, *command, "--since", "all", "--output", "csv")
    assert result.code == 0, result
    parsed = list(csv.DictReader(io.StringIO(result.stdout)))
    assert parsed and "spend" in parsed[0]


# -- periods --------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 22, 21, 17, 5, tzinfo=timezone.utc)


@given(st.integers(min_value=0, max_value=3650), st.sampled_from(["d", "w", "h", "m"]))
def test_relative_periods(count: int, unit: str) -> None:
    assume(count > 0 or unit in ("d", "w"))  # 0h is an empty period; 0d is today
    period = periods.period(f"{count}{unit}", None, now=NOW)
    assert period.until == NOW and period.open_end
    if unit in ("h", "m"):
        assert period.since == NOW - timedelta(hours=count if unit == "h" else count / 60)
        return
    days = count * (7 if unit == "w" else 1)
    assert period.since is not None and period.since.time().isoformat() == "00:00:00"
    assert (NOW.date() - period.since.date()).days == days  # the UTC day that many days ago, and today
    assert period.whole_days and len(period.days()) == days + 1


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2026, 11, 21)))
def test_a_date_until_includes_that_day(day: date) -> None:
    period = periods.period(day.isoformat(), day.isoformat(), now=NOW)
    assert period.days() == [day] and period.whole_days and not period.open_end


def test_period_forms() -> None:
    assert periods.period("all", None, now=NOW).since is None
    assert periods.period("today", None, now=NOW).since == datetime(2026, 11, 22, tzinfo=timezone.utc)
    yesterday = periods.period("yesterday", "yesterday", now=NOW)
    assert yesterday.days() == [date(2026, 11, 21)]
    offset = periods.period("2026-11-20T10:00+02:00", "2026-11-20T12:00:00", now=NOW)
    assert offset.since == datetime(2026, 11, 20, 8, tzinfo=timezone.utc) and not offset.whole_days
    with pytest.raises(InvalidInput, match="--until"):
        periods.period("7d", "all", now=NOW)


def test_deleted_keys_and_teams_keep_their_names(scratch: Database) -> None:
    key = scratch.query("""SELECT token, key_alias, key_name FROM "LiteLLM_VerificationToken"
                           WHERE key_alias IS NOT NULL ORDER BY spend DESC LIMIT 1""")[0]
    team = scratch.query('SELECT team_id, team_alias FROM "LiteLLM_TeamTable" ORDER BY spend DESC LIMIT 1')[0]
    scratch.execute("""INSERT INTO "LiteLLM_DeletedVerificationToken" (id, token, key_alias, key_name)
                       SELECT 'd1', token, key_alias, key_name FROM "LiteLLM_VerificationToken" WHERE token = %s""",
                    (key["token"],))
    scratch.execute('DELETE FROM "LiteLLM_VerificationToken" WHERE token = %s', (key["token"],))
    scratch.execute("""INSERT INTO "LiteLLM_DeletedTeamTable" (id, team_id, team_alias) VALUES ('d2', %s, %s)""",
                    (team["team_id"], team["team_alias"]))
    scratch.execute('UPDATE "LiteLLM_VerificationToken" SET team_id = NULL WHERE team_id = %s', (team["team_id"],))
    scratch.execute('UPDATE "LiteLLM_UserTable" SET team_id = NULL WHERE team_id = %s', (team["team_id"],))
    scratch.execute('DELETE FROM "LiteLLM_TeamTable" WHERE team_id = %s', (team["team_id"],))
    keys = run(scratch, "top", "--by", "key", "--limit", "100", *PERIOD, "--json").json()["rows"]
    [deleted] = [r for r in keys if r["id"] == key["token"]]
    assert deleted["label"] == f"{key['key_alias']} ({key['key_name']}) (deleted)" and deleted["deleted"]
    by_alias = run(scratch, "summary", *PERIOD, "--key", key["key_alias"], "--json")
    assert by_alias.code == 0 and by_alias.json()["totals"]["spend"] == pytest.approx(deleted["spend"])
    teams = run(scratch, "top", "--by", "team", "--team", team["team_alias"], *PERIOD, "--json").json()["rows"]
    assert [t["label"] for t in teams] == [f"{team['team_alias']} (deleted)"]


def test_top_by_tag_with_tag_filters(data: Database) -> None:
    rows = logs_between(data)
    tags = [t for t, _ in sorted(expected_groups(rows, "tag", "logs").items(), key=lambda kv: -kv[1]["spend"])][:2]
    one = run(data, "top", "--by", "tag", "--tag", tags[0], *PERIOD, "--json").json()
    assert [r["id"] for r in one["rows"]] == [tags[0]]
    assert_metrics(one["total"], metrics([r for r in rows if tags[0] in row_tags(r)]))
    two = run(data, "top", "--by", "tag", "--tag", tags[0], "--tag", tags[1], *PERIOD, "--json").json()
    assert [r["id"] for r in two["rows"]] == tags and two["total"] is None
    assert any("cannot count" in note for note in two["notes"])
    exact = run(data, "top", "--by", "tag", "--tag", tags[0], "--tag", tags[1], *PERIOD, "--source", "logs",
                "--json").json()
    assert [r["id"] for r in exact["rows"]] == tags
    assert_metrics(exact["total"], metrics([r for r in rows if set(tags) & set(row_tags(r))]))
