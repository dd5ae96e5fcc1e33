"""dbctl logs scrub: the prompts and responses of whole UTC days before a cutoff are blanked (columns
to their '{}' default, bodies out of metadata), the accounting stays (the daily tables still match),
re-runs change nothing, a run killed midway is finished by the next, and a proxy writing meanwhile loses
nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import logs_data
import pytest
from helpers import killed_at
from logs_data import FIRST, edge_logs, insert, request_ids

DAYS = [FIRST + timedelta(days=n) for n in range(3)]  # scrubbed: DAYS[0..1]; kept: DAYS[2]
UNTIL = ["--until", str(DAYS[1])]
KEPT_COLUMNS = ('request_id, spend, total_tokens, prompt_tokens, completion_tokens, "startTime", "endTime", model, '
                '"user", team_id, api_key, status')


def _rows(db, where: str) -> list[dict]:
    return db.query(f'SELECT {KEPT_COLUMNS}, messages, response, proxy_server_request, metadata '
                    f'FROM "LiteLLM_SpendLogs" WHERE {where} ORDER BY request_id')


@pytest.fixture
def logged(db, cli):
    insert(db.url, edge_logs(DAYS))
    assert cli("daily", "reconcile", "--since", str(DAYS[0]), "--until", str(DAYS[-1]), "-q").code == 0
    return db


def test_scrub_blanks_bodies_and_keeps_the_accounting(logged, cli) -> None:
    cut = f"\"startTime\" < '{DAYS[2]}'"
    before_old, before_new = _rows(logged, cut), _rows(logged, f"NOT ({cut})")
    dry = cli("--json", "logs", "scrub", *UNTIL, "--dry-run")
    assert dry.code == 3, dry
    assert dry.json()["rows"] == 6
    assert _rows(logged, cut) == before_old  # the dry run changed nothing
    result = cli("--json", "logs", "scrub", *UNTIL, "--batch-size", "2")
    assert result.code == 0, result
    assert result.json()["rows"] == 6
    after = _rows(logged, cut)
    assert _rows(logged, f"NOT ({cut})") == before_new  # DAYS[2] 00:00:00.000 is not touched
    for old, new in zip(before_old, after):
        assert {k: new[k] for k in KEPT_COLUMNS.replace('"', "").split(", ")} == \
            {k: old[k] for k in KEPT_COLUMNS.replace('"', "").split(", ")}
        assert new["messages"] == new["response"] == new["proxy_server_request"] == {}
        assert "secret" not in json.dumps(new["metadata"])
        meta = new["metadata"]
        assert "proxy_server_request" not in meta and "vector_store_request_metadata" not in meta
        assert meta["mcp_tool_call_metadata"] == {"name": "lookup", "namespaced_tool_name": "srv/lookup"}
        assert meta["guardrail_information"] == [{
            "guardrail_name": "h", "guardrail_provider": "headroom", "guardrail_status": "success",
            "guardrail_request": "REDACTED_BY_LITELM", "match_details": "REDACTED_BY_LITELM",
            "guardrail_response": {"tokens_saved": 7}}]
        assert meta["usage_object"] == {"prompt_tokens": 3} and meta["user_api_key_alias"] == "alias"
    check = cli("daily", "check", "--since", str(DAYS[0]), "--until", str(DAYS[-1]))
    assert check.code == 0, check  # what the daily tables count survived
    again = cli("--json", "logs", "scrub", *UNTIL)
    assert again.code == 0 and again.json()["rows"] == 0 and again.json()["scanned"] == 6
    assert cli("logs", "scrub", *UNTIL, "--dry-run").code == 0


@pytest.mark.slow
def test_a_scrub_killed_midway_is_finished_by_the_next_run_each_row_once(logged, cli) -> None:
    many = [logs_data.log_row(f"bulk-{n}", logs_data.midnight(DAYS[1]) + timedelta(seconds=n)) for n in range(300)]
    insert(logged.url, many)
    assert cli("daily", "reconcile", "--since", str(DAYS[1]), "--until", str(DAYS[1]), "-q").code == 0
    cut = f"\"startTime\" < '{DAYS[2]}'"
    kept_before = _rows(logged, f"NOT ({cut})")
    # killed in its third pause: three batches committed, the rest not begun
    killed_at("LOGS_BATCH", ["--database-url", logged.url, "logs", "scrub", *UNTIL, "--batch-size", "50"],
              count=3, seconds=0.5)
    blank = "messages = '{}'::jsonb AND response = '{}'::jsonb AND proxy_server_request = '{}'::jsonb"
    done = logged.value(f'SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE {cut} AND {blank}')
    assert 0 < done < 306  # a batch is whole or not at all: some rows scrubbed, some not yet
    resumed = cli("--json", "logs", "scrub", *UNTIL)
    assert resumed.code == 0, resumed
    assert resumed.json()["rows"] == 306 - done  # each row scrubbed once over the two runs
    assert logged.value(f'SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE {cut} AND NOT ({blank})') == 0
    assert _rows(logged, f"NOT ({cut})") == kept_before
    assert cli("daily", "check", "--since", str(DAYS[0]), "--until", str(DAYS[-1]), "-q").code == 0


def test_odd_metadata_shapes_are_scrubbed_or_left_as_they_are(db, cli) -> None:
    start = logs_data.midnight(DAYS[0])
    shapes = {"null": None, "json-null": "null-json", "text": "just text", "list": [1, 2], "one-guardrail": {
        "guardrail_information": {"guardrail_request": "secret", "guardrail_response": "secret"}},
              "mixed-guardrails": {"guardrail_information": ["headroom", {"classification": "secret"}]}}
    insert(db.url, [logs_data.log_row(name, start, metadata=value) for name, value in shapes.items()], tools=False)
    db.execute("UPDATE \"LiteLLM_SpendLogs\" SET metadata = 'null'::jsonb WHERE request_id = 'json-null'")
    assert cli("logs", "scrub", *UNTIL).code == 0
    meta = {r["request_id"]: r["metadata"] for r in _rows(db, "true")}
    assert meta["null"] is None and meta["json-null"] is None and meta["text"] == "just text" and meta["list"] == [1, 2]
    assert meta["one-guardrail"] == {"guardrail_information": {"guardrail_request": "REDACTED_BY_LITELM",
                                                               "guardrail_response": "REDACTED_BY_LITELM"}}
    assert meta["mixed-guardrails"] == {"guardrail_information": ["headroom", {"classification": "REDACTED_BY_LITELM"}]}
    assert cli("logs", "scrub", *UNTIL, "--dry-run").code == 0  # each is its own scrub


@pytest.mark.slow
def test_a_proxy_inserting_during_a_scrub_loses_nothing(db, cli) -> None:
    old = [logs_data.log_row(f"old-{n}", logs_data.midnight(DAYS[0]) + timedelta(seconds=n)) for n in range(3000)]
    insert(db.url, old, tools=False)
    with logs_data.writing(db.url) as writer:
        result = cli("--json", "logs", "scrub", "--until", str(DAYS[0]), "--batch-size", "200", "--pause", "5ms")
    assert result.code == 0, result
    assert result.json()["rows"] == 3000
    assert writer.failures == [] and len(writer.inserted) > 10
    assert request_ids(db.url) == set(writer.inserted) | {r["request_id"] for r in old}
    live = db.value("SELECT count(*) FROM \"LiteLLM_SpendLogs\" WHERE request_id LIKE 'live-%' AND messages <> '{}'")
    assert live == len(writer.inserted)  # today's logs keep their bodies


def test_scrub_refuses_bad_values_with_exit_2(cli) -> None:
    for args in ([], ["--older-than", "-1d"], ["--until", "yesterday", "--older-than", "30d"],
                 ["--older-than", "30d", "--batch-size", "0"], ["--older-than", "30d", "--max-rate", "nan"]):
        result = cli("logs", "scrub", *args)
        assert result.code == 2, (args, result)
