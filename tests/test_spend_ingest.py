"""`dbctl spend ingest`: StandardLoggingPayloads made by LiteLLM 1.109.1's SDK (tests/data/ingest, made by
generate.py) written as the rows LiteLLM's own get_logging_payload built from the same calls; counters and
daily tables that `daily check` finds in agreement; idempotence, a kill and a resume, bad records, the
spendlogs round trip, stdin, a directory, LiteLLM 1.110's outbox."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from helpers import Database, killed_at

from litellm_dbctl.spend import payloads

DATA = Path(__file__).parent / "data" / "ingest"
PAYLOADS = DATA / "payloads.jsonl"
EXPECTED: dict[str, dict[str, Any]] = json.loads((DATA / "spend_logs.json").read_text())
KEY_A = "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"
# Not in a StandardLoggingPayload: LiteLLM computes it from the live cache object, so a cache miss logged
# with the cache on has a key ingest cannot know (it writes "Cache OFF"; a hit's payload carries its key).
UNKNOWABLE = {"cache_key"}


def same_request_id(got: str, want: str) -> bool:
    """A cache hit's id ends in time.time() at logging (spend_tracking_utils.py:831-834), never the same
    twice: ingest keeps the payload's own such suffix; the part before it must match."""
    return got == want or ("_cache_hit" in want and got.split("_cache_hit")[0] == want.split("_cache_hit")[0])


def lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in PAYLOADS.read_text().splitlines()]


def expected_for(payload: dict[str, Any]) -> dict[str, Any]:
    return EXPECTED[payload["id"] + ("#cache_hit" if payload.get("cache_hit") else "")]


def seed_entities(db: Database) -> None:
    db.execute("""INSERT INTO "LiteLLM_VerificationToken" (token) VALUES (%s)""", (KEY_A,))
    db.execute("""INSERT INTO "LiteLLM_UserTable" (user_id) VALUES ('u-alice'), ('u-bob'), ('u-carol')""")
    db.execute("""INSERT INTO "LiteLLM_TeamTable" (team_id) VALUES ('t-red'), ('t-blue')""")
    db.execute("""INSERT INTO "LiteLLM_TagTable" (tag_name) VALUES ('prod'), ('cached')""")


def test_the_mapping_equals_litellm_get_logging_payload_field_by_field() -> None:
    for payload in lines():
        mine = payloads.row(payload, "standard")
        theirs = expected_for(payload)
        for column in payloads.COLUMNS:
            if column in UNKNOWABLE and not payload.get("cache_hit"):
                continue
            got, want = mine[column], theirs[column]
            if column in payloads.JSON_COLUMNS and isinstance(want, str):
                want = json.loads(want)
            if hasattr(got, "isoformat"):
                got = got.isoformat()
            if column == "request_id":
                assert same_request_id(got, want)
                continue
            assert got == want, (payload["id"], column)


def test_ingest_writes_litellm_rows_counters_and_daily_rows_daily_check_agrees_with(cli, db: Database) -> None:
    seed_entities(db)
    result = cli("spend", "ingest", str(PAYLOADS), "--json")
    assert result.code == 0, result
    body = result.json()
    assert (body["records_read"], body["inserted"], body["already_present"], body["skipped_bad"]) == (6, 6, 0, 0)
    stored = {r["request_id"]: r for r in db.query('SELECT * FROM "LiteLLM_SpendLogs"')}
    for payload in lines():
        want = expected_for(payload)
        row = stored[payloads.row(payload, "standard")["request_id"]]
        for column in payloads.COLUMNS:
            if (column in UNKNOWABLE and not payload.get("cache_hit")) or column == "request_id":
                continue
            value, expected = row[column], want[column]
            if column in ("startTime", "endTime", "completionStartTime") and expected is not None:
                # the column keeps milliseconds (PostgreSQL rounds, as for the proxy's own rows)
                exact = datetime.fromisoformat(expected).replace(tzinfo=None)
                assert abs((value - exact).total_seconds()) <= 0.0005, (payload["id"], column)
                continue
            elif column in payloads.JSON_COLUMNS and isinstance(expected, str):
                expected = json.loads(expected)
            assert value == expected, (payload["id"], column)
    spend = sum(r["spend"] for r in EXPECTED.values())
    assert body["spend_added"] == pytest.approx(spend)
    # the counters: §2.1 — key, user, team, org (none seeded: nothing), end users created, tags that exist
    assert db.value('SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = %s', (KEY_A,)) == pytest.approx(
        sum(r["spend"] for r in EXPECTED.values() if r["api_key"] == KEY_A))
    assert db.value('SELECT total_spend FROM "LiteLLM_VerificationToken" WHERE token = %s', (KEY_A,)) > 0
    users = {r["user_id"]: r["spend"] for r in db.query('SELECT user_id, spend FROM "LiteLLM_UserTable"')}
    assert users["u-alice"] == pytest.approx(sum(r["spend"] for r in EXPECTED.values() if r["user"] == "u-alice"))
    end_users = {r["user_id"] for r in db.query('SELECT user_id FROM "LiteLLM_EndUserTable"')}
    assert end_users == {"customer-7", "customer-9"}
    prod = sum(r["spend"] * json.loads(r["request_tags"]).count("prod") for r in EXPECTED.values())
    assert db.value("""SELECT spend FROM "LiteLLM_TagTable" WHERE tag_name = 'prod'""") == pytest.approx(prod)
    # the daily tables: what daily check recomputes from the logs, no drift
    check = cli("daily", "check", "--since", "2026-01-01", "--until", "today", "--json")
    assert check.code == 0, check
    tag_rows = db.query('SELECT tag, api_requests FROM "LiteLLM_DailyTagSpend" ORDER BY tag')
    assert sorted({r["tag"] for r in tag_rows}) == ["batch", "cached", "chat", "prod"]  # prod: two keys
    # a re-run writes nothing
    again = cli("spend", "ingest", str(PAYLOADS), "--json")
    assert (again.code, again.json()["inserted"], again.json()["already_present"]) == (0, 0, 6)
    assert db.value('SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = %s', (KEY_A,)) == pytest.approx(
        sum(r["spend"] for r in EXPECTED.values() if r["api_key"] == KEY_A))
    assert cli("daily", "check", "--since", "2026-01-01", "--until", "today", "-q").code == 0


def test_dry_run_exits_3_and_writes_nothing(cli, db: Database) -> None:
    result = cli("spend", "ingest", str(PAYLOADS), "--dry-run", "--json")
    assert result.code == 3 and result.json()["inserted"] == 6
    assert db.value('SELECT count(*) FROM "LiteLLM_SpendLogs"') == 0


def test_bad_records_name_file_line_and_field_and_nothing_is_written(cli, db: Database, tmp_path: Path) -> None:
    good = PAYLOADS.read_text().splitlines()
    bad = json.loads(good[0])
    bad["id"], bad["response_cost"] = "bad-cost", "12"
    nul = json.loads(good[1])
    nul["id"], nul["model"] = "bad-nul", "gpt\x00"
    source = tmp_path / "mixed.jsonl"
    source.write_text("\n".join([good[2], json.dumps(bad), "{not json", json.dumps(nul), good[3]]) + "\n")
    result = cli("spend", "ingest", str(source))
    assert result.code == 2, result
    assert f"{source}:2: response_cost: expected a number" in result.stderr
    assert f"{source}:3: record: not JSON" in result.stderr
    assert f"{source}:4: model: must not contain a NUL character" in result.stderr
    assert db.value('SELECT count(*) FROM "LiteLLM_SpendLogs"') == 0
    skipped = cli("spend", "ingest", str(source), "--skip-bad", "--json")
    assert skipped.code == 0, skipped
    body = skipped.json()
    assert (body["inserted"], body["skipped_bad"]) == (2, 3)
    assert [b.split(": ")[0] for b in body["bad"]] == [f"{source}:2", f"{source}:3", f"{source}:4"]


def test_a_request_repeated_within_and_across_chunks_is_written_and_counted_once(cli, db: Database,
                                                                               tmp_path: Path) -> None:
    seed_entities(db)
    records = PAYLOADS.read_text().splitlines()
    source = tmp_path / "repeats.jsonl"
    # chunks of 2: record 0 twice in the first chunk, again in the second, and again at the end
    source.write_text("\n".join([records[0], records[0], records[1], records[0], records[2], "", records[0]]) + "\n")
    result = cli("spend", "ingest", str(source), "--batch-size", "2", "--json")
    assert result.code == 0, result
    body = result.json()
    assert (body["records_read"], body["inserted"], body["already_present"]) == (6, 3, 3), body
    first = payloads.row(json.loads(records[0]), "standard")
    assert db.value('SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE request_id = %s', (first["request_id"],)) == 1
    assert body["spend_added"] == pytest.approx(sum(payloads.row(json.loads(r), "standard")["spend"]
                                                    for r in records[:3]))
    assert cli("daily", "check", "--since", "2026-01-01", "--until", "today", "-q").code == 0


def test_worker_processes_write_what_one_process_writes(cli, db: Database, tmp_path: Path) -> None:
    seed_entities(db)
    result = cli("spend", "ingest", str(PAYLOADS), "--jobs", "2", "--batch-size", "2", "--json")
    assert result.code == 0, result
    assert (result.json()["inserted"], result.json()["records_read"]) == (6, 6)
    assert cli("daily", "check", "--since", "2026-01-01", "--until", "today", "-q").code == 0
    for jobs in ("0", "65", "many"):
        refused = cli("spend", "ingest", str(PAYLOADS), "--jobs", jobs)
        assert refused.code == 2 and "--jobs" in refused.stderr, refused
    assert db.value('SELECT count(*) FROM "LiteLLM_SpendLogs"') == 6


def test_a_bad_record_on_stdin_is_named_by_its_line(cli, db: Database) -> None:
    records = PAYLOADS.read_text().splitlines()
    result = cli("spend", "ingest", "-", input="\n".join([records[0], "[1, 2", records[1]]) + "\n")
    assert result.code == 2, result
    assert "<stdin>:2: record: not JSON" in result.stderr
    assert db.value('SELECT count(*) FROM "LiteLLM_SpendLogs"') == 0


def test_stdin_and_a_directory_of_bucket_objects(cli, db: Database, tmp_path: Path) -> None:
    records = PAYLOADS.read_text().splitlines()
    via_stdin = cli("spend", "ingest", "-", "--json", input="\n".join(records[:3]) + "\n")
    assert via_stdin.code == 0 and via_stdin.json()["inserted"] == 3, via_stdin
    bucket = tmp_path / "bucket" / "2026-12-07"
    bucket.mkdir(parents=True)
    for n, record in enumerate(records):  # one object per request, as the S3/GCS loggers write them
        (bucket / f"time-{n}.json").write_text(record)
    result = cli("spend", "ingest", str(tmp_path / "bucket"), "--json")
    assert (result.code, result.json()["inserted"], result.json()["already_present"]) == (0, 3, 3), result
    assert cli("daily", "check", "--since", "2026-01-01", "--until", "today", "-q").code == 0


def test_spendlogs_round_trip_from_spend_export(cli, db: Database, tmp_path: Path, _clones: Any) -> None:
    assert cli("spend", "ingest", str(PAYLOADS)).code == 0
    exported = tmp_path / "logs.jsonl"
    result = cli("spend", "export", "--source", "logs", "--since", "2026-01-01", "--format", "jsonl",
                 "--to", str(exported))
    assert result.code == 0, result
    other = _clones.take()
    try:
        from helpers import invoke

        moved = invoke(["--database-url", other.url, "spend", "ingest", str(exported), "--format", "spendlogs",
                        "--json"])
        assert moved.code == 0 and moved.json()["inserted"] == 6, moved
        for table in ("LiteLLM_DailyUserSpend", "LiteLLM_DailyTeamSpend", "LiteLLM_DailyTagSpend"):
            query = (f'SELECT date, api_key, model, api_requests, prompt_tokens, cache_read_input_tokens, '
                     f'round(spend::numeric, 12) AS spend FROM "{table}" ORDER BY 1, 2, 3, 4, 5')
            assert other.query(query) == db.query(query), table
        assert invoke(["--database-url", other.url, "daily", "check", "--since", "2026-01-01", "--until", "today",
                       "-q"]).code == 0
    finally:
        _clones.give_back(other, "round-trip")


@pytest.mark.slow
def test_killed_midway_then_resumed_counts_nothing_twice(cli, db: Database, tmp_path: Path) -> None:
    seed_entities(db)
    source = tmp_path / "many.jsonl"
    template = json.loads(PAYLOADS.read_text().splitlines()[0])
    with source.open("w") as out:
        for n in range(50):
            out.write(json.dumps({**template, "id": f"req-{n:03d}", "response_cost": 0.5}) + "\n")
    killed_at("SPEND_INGEST_CHUNK", ["--database-url", db.url, "spend", "ingest", str(source), "--batch-size", "10"])
    assert db.value('SELECT count(*) FROM "LiteLLM_SpendLogs"') == 10  # the first chunk committed
    assert db.value('SELECT spend FROM "LiteLLM_VerificationToken"') == pytest.approx(5.0)
    result = cli("spend", "ingest", str(source), "--batch-size", "10", "--json")
    assert result.code == 0 and (result.json()["inserted"], result.json()["already_present"]) == (40, 10)
    assert db.value('SELECT spend FROM "LiteLLM_VerificationToken"') == pytest.approx(25.0)
    assert db.value("""SELECT sum(spend) FROM "LiteLLM_DailyUserSpend" """) == pytest.approx(25.0)
    assert cli("daily", "check", "--since", "2026-01-01", "--until", "today", "-q").code == 0


def test_on_the_outbox_a_pending_delivery_replaces_direct_increments(outbox_db: Database) -> None:
    from helpers import invoke

    seed_entities(outbox_db)
    result = invoke(["--database-url", outbox_db.url, "spend", "ingest", str(PAYLOADS), "--json"])
    assert result.code == 0, result
    assert result.json()["deliveries"] == 6 and result.json()["outbox"] is True
    deliveries = outbox_db.query('SELECT * FROM "LiteLLM_SpendLogDelivery" ORDER BY request_id')
    assert {d["state"] for d in deliveries} == {"pending"} and not any(d["is_batch"] for d in deliveries)
    payload = deliveries[0]["accounting_payload"]
    assert set(payload["metadata"]["accounting_entities"]) == {
        "api_key", "user", "end_user", "team_id", "organization_id", "project_id", "agent_id", "proxy_budget_name"}
    assert isinstance(payload["request_tags"], str) and isinstance(payload["startTime"], str)
    # the worker applies it: nothing counted directly
    assert outbox_db.value('SELECT spend FROM "LiteLLM_VerificationToken"') == 0
    assert outbox_db.value('SELECT count(*) FROM "LiteLLM_DailyUserSpend"') == 0
