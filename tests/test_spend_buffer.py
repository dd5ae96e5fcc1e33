"""`dbctl spend buffer`: LiteLLM's Redis buffers as its own RedisUpdateBuffer fills them, read back.

The entries are tests/data/buffer/entries.json, recorded from LiteLLM 1.109.1's own code
(tests/data/buffer/generate.py); the Redis tests push them into the test's namespace (fix_redis).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fix_redis import PASSWORD, REDIS, needs_redis, plain
from helpers import invoke
from hypothesis import given
from hypothesis import strategies as st

from litellm_dbctl.spend import buffer, buffer_entries
from litellm_dbctl.spend.buffer_entries import BUFFERS, Tally, tally

FIXTURE = json.loads((Path(__file__).parent / "data" / "buffer" / "entries.json").read_text())
SPECS = {spec.key: spec for spec in BUFFERS}
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=timezone.utc)
POD = "6a1f0c3e-pod-a"


def tallied(key: str, entries: list[str]) -> Tally:
    into = Tally()
    for raw in entries:
        tally(SPECS[key].kind, raw, into, SPECS[key].entity)
    return into


# -- decoding, no Redis ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(FIXTURE["lists"]))
def test_litellms_entries_decode_to_the_spend_they_carry(key: str) -> None:
    into = tallied(key, FIXTURE["lists"][key])
    assert into.undecodable == 0
    spend = {kind: sum(ids.values()) for kind, ids in into.spend.items()}
    assert spend == pytest.approx(FIXTURE["expected_spend"][key])


def test_what_each_entry_says_of_its_age() -> None:
    lists = FIXTURE["lists"]
    assert tallied("litellm_spend_update_buffer", lists["litellm_spend_update_buffer"]).oldest is None  # no time
    # a daily row is at least as old as the end of its UTC day
    assert tallied("litellm_daily_team_spend_update_buffer", lists["litellm_daily_team_spend_update_buffer"]).oldest \
        == datetime(2026, 6, 10, tzinfo=timezone.utc)
    assert tallied("litellm_window_spend_update_buffer", lists["litellm_window_spend_update_buffer"]).oldest \
        == datetime(2026, 6, 10, 11, 50, 5, tzinfo=timezone.utc)  # started_at
    parked = tallied("litellm_spend_logs_buffer", lists["litellm_spend_logs_buffer"])
    assert parked.oldest == datetime(2026, 6, 10, 11, 40, tzinfo=timezone.utc)  # startTime
    [log] = parked.parked
    assert log.request_id == "req-parked-1" and log.start == datetime(2026, 6, 10, 11, 40) and not log.accounted
    assert sorted(log.entities) == [("end_user", "eu1"), ("key", "hash-k1"), ("org", "o1"), ("tag", "blue"),
                                    ("tag", "prod"), ("team", "t1"), ("user", "u1")]


def test_nan_is_zero_and_a_bad_entry_changes_nothing_else() -> None:
    into = tallied("litellm_spend_update_buffer", [
        '{"key_list_transactions": {"k": NaN, "j": 1.5}, "user_list_transactions": null}',
        "not json", '["a list"]', '{"key_list_transactions": {"k": "text"}}', '{"key_list_transactions": {"k": 2}}',
    ])
    assert (into.entries, into.undecodable) == (5, 3)
    assert into.spend == {"key": {"k": 2.0, "j": 1.5}}
    assert tallied("litellm_spend_logs_buffer", ['{"request_id": "r", "spend": Infinity, "startTime": "nope", '
                                                 '"accounting_payload": {"x": 1}}']).parked[0].accounted


def test_rows_without_spend_count_requests_and_days() -> None:
    gateway = tallied("litellm_gateway_requests_buffer_v2", ['[["2026-06-08", "llm", "/chat", 200, 5, 1]]'])
    legacy = tallied("litellm_gateway_requests_buffer", ['[["2026-06-09", "llm", "/chat", 3, 0]]'])
    errors = tallied("litellm_request_errors_buffer", ['[["2026-06-09", "k", "t", "u", "gpt", 429, 7]]'])
    tools = tallied("litellm_tool_discovery_buffer", ['[{"tool_name": "a", "call_count": 4}, {"tool_name": "b"}]'])
    assert [t.requests for t in (gateway, legacy, errors, tools)] == [6, 3, 7, 5]
    assert gateway.oldest == datetime(2026, 6, 9, tzinfo=timezone.utc) and tools.oldest is None
    assert all(not t.spend and not t.undecodable for t in (gateway, legacy, errors, tools))


def test_times_and_holders() -> None:
    assert buffer_entries.day_end("9999-12-31") is None and buffer_entries.day_end(None) is None
    assert buffer_entries.moment("2026-06-10T11:40:00+02:00") == datetime(2026, 6, 10, 9, 40, tzinfo=timezone.utc)
    assert buffer_entries.tags('["a", 1, "a"]') == ["a", "a"] and buffer_entries.tags("{") == []
    assert buffer.holder(b'"pod-1"') == "pod-1" and buffer.holder(b"dbctl-1") == "dbctl-1"
    assert buffer.holder(b"42") == "42" and buffer.holder(None) is None


@given(st.lists(st.dictionaries(st.sampled_from(["k1", "k2", "k3"]),
                                st.floats(min_value=0, max_value=1e6, allow_nan=False)), max_size=20))
def test_counter_entries_add_up(maps: list[dict[str, float]]) -> None:
    into = tallied("litellm_spend_update_buffer", [json.dumps({"key_list_transactions": m}) for m in maps])
    for key in ("k1", "k2", "k3"):
        expected = math.fsum(m.get(key, 0.0) for m in maps)
        assert into.spend.get("key", {}).get(key, 0.0) == pytest.approx(expected)


# -- on the machine's Redis ---------------------------------------------------------------------


def fill(namespace: str, lists: dict[str, list[str]] | None = None, *, lock_ttl: int = 45) -> None:
    """Push the entries as RedisCache would (its namespace prefixed), and take the lock as a pod did."""
    with plain() as redis:
        for key, entries in (FIXTURE["lists"] if lists is None else lists).items():
            redis.rpush(f"{namespace}:{key}", *entries)
        if lock_ttl:
            for key, value in FIXTURE["strings"].items():
                redis.set(f"{namespace}:{key}", value, ex=lock_ttl)


def lengths(namespace: str) -> dict[str, int]:
    with plain() as redis:
        return {spec.key: redis.llen(f"{namespace}:{spec.key}") for spec in BUFFERS}


@needs_redis
def test_spend_buffer_reads_litellms_buffers_back_and_pops_nothing(namespace: str) -> None:
    fill(namespace)
    before = lengths(namespace)
    result = invoke(["spend", "buffer", "--redis-url", REDIS, "--redis-namespace", namespace, "-q", "--json"])
    assert result.code == 3, result  # recorded in June 2026: older than 5 minutes
    payload = result.json()
    by_name = {b["name"]: b for b in payload["buffers"]}
    for key, expected in FIXTURE["expected_spend"].items():
        found = by_name[key]
        assert found["key"] == f"{namespace}:{key}" and found["entries"] == len(FIXTURE["lists"][key])
        assert {k: v["spend"] for k, v in found["spend"].items()} == pytest.approx(expected)
    assert by_name["litellm_spend_update_buffer"]["spend"]["key"]["entities"] == 2
    assert by_name["litellm_spend_update_buffer"]["age_seconds"] is None  # its entries carry no time
    assert by_name["litellm_daily_tag_spend_update_buffer"]["job"] == "db_daily_tag_spend_update_job"
    assert by_name["litellm_daily_spend_update_buffer"]["requests"] == 3
    assert by_name["litellm_tool_discovery_buffer"]["entries"] == 0
    [lock] = payload["locks"]
    assert (lock["job"], lock["holder"]) == ("db_spend_update_job", POD) and 0 < lock["ttl_seconds"] <= 45
    stale = payload["older_than_max_age"]
    assert f"{namespace}:litellm_spend_logs_buffer" in stale and f"{namespace}:litellm_spend_update_buffer" not in stale
    assert result.stderr.startswith("dbctl: ") and "litellm_spend_logs_buffer" in result.stderr
    assert lengths(namespace) == before  # read-only: nothing popped


@needs_redis
def test_ages_from_the_entries_times(namespace: str) -> None:
    fill(namespace)
    state = buffer.read(REDIS, namespace, now=NOW, chunk=1)  # one entry per LRANGE
    ages = {b.name: b.age_seconds for b in state.buffers}
    assert ages["litellm_window_spend_update_buffer"] == 595.0  # 11:50:05
    assert ages["litellm_spend_logs_buffer"] == 1200.0  # 11:40
    assert ages["litellm_daily_spend_update_buffer"] == 12 * 3600.0  # at least: the end of 2026-06-09
    assert ages["litellm_spend_update_buffer"] is None
    daily = {spec.key for spec in BUFFERS if spec.kind == "daily"}
    assert {b.name for b in state.older_than(600)} == daily | {"litellm_spend_logs_buffer"}
    assert all(not b.changed and b.read == b.entries for b in state.buffers)


@needs_redis
def test_untimed_entries_never_fail_the_check_and_the_table(namespace: str) -> None:
    fill(namespace, {"litellm_spend_update_buffer": FIXTURE["lists"]["litellm_spend_update_buffer"]}, lock_ttl=0)
    args = ["spend", "buffer", "--redis-url", REDIS, "--redis-namespace", namespace, "--max-age", "1s"]
    result = invoke(args)
    assert result.code == 0, result
    assert "litellm_spend_update_buffer" in result.stdout and "key 2.75 (2)" in result.stdout
    assert "1 of 13 buffers hold entries" in result.stdout and "no cronjob_lock held" in result.stdout
    quiet = invoke([*args, "-q"])
    assert (quiet.code, quiet.stdout, quiet.stderr) == (0, "", "")  # cron: silent when all is well
    csv = invoke([*args, "--output", "csv"])
    assert csv.stdout.splitlines()[0].startswith("buffer,entries,spend") and len(csv.stdout.splitlines()) == 14


@needs_redis
def test_a_long_list_is_read_in_chunks(namespace: str) -> None:
    entries = [json.dumps({"key_list_transactions": {f"k{i % 7}": 0.5}}) for i in range(1203)]
    fill(namespace, {"litellm_spend_update_buffer": entries}, lock_ttl=0)
    state = buffer.read(REDIS, namespace, chunk=100)
    [counters] = [b for b in state.buffers if b.name == "litellm_spend_update_buffer"]
    assert (counters.entries, counters.read, counters.spend) == (1203, 1203, (buffer.EntitySpend("key", 601.5, 7),))


@needs_redis
def test_redis_unreachable_or_missing() -> None:
    down = invoke(["spend", "buffer", "--redis-url", f"redis://:{PASSWORD}@127.0.0.1:1"])
    assert down.code == 1 and len(down.stderr.strip().splitlines()) == 1 and PASSWORD not in down.stderr
    missing = invoke(["spend", "buffer"], env={"REDIS_URL": ""})
    assert missing.code == 2 and "--redis-url" in missing.stderr
    bad = invoke(["spend", "buffer", "--redis-url", REDIS, "--max-age", "nan"])
    assert bad.code == 2 and "--max-age" in bad.stderr


# -- budget sync --repair-spend counts what waits in the buffers ------------------------------------

REPAIR_NOW = "2026-06-10T12:00:00Z"  # the fixture's parked log started 11:40, inside today's window
TOMORROW = datetime(2026, 6, 11)


def counters(db) -> dict[str, float]:
    import fix_budget as fx

    return {"hash-k1": fx.spend(db, "LiteLLM_VerificationToken", "token", "hash-k1"),
            "hash-k2": fx.spend(db, "LiteLLM_VerificationToken", "token", "hash-k2"),
            "u1": fx.spend(db, "LiteLLM_UserTable", "user_id", "u1")}


def seed(db) -> None:
    """Counters as the proxy leaves them while the fixture's buffers wait: hash-k1's logs (3.5) are
    written, 0.75 of its increments wait and its parked 1.25 log is not written yet but counted; so
    it is right at 3.5 + 1.25 - 0.75 = 4.0. hash-k2: 3.5 logged, 2.0 waiting: right at 1.5. u1: 3.5
    logged, 1.25 parked, 2.75 waiting: right at 2.0, but it holds 0 (a lost batch): repaired to 2.0."""
    import fix_budget as fx

    fx.key(db, "hash-k1", spend=4.0, budget_duration="1d", budget_reset_at=TOMORROW)
    fx.key(db, "hash-k2", spend=1.5, budget_duration="1d", budget_reset_at=TOMORROW)
    fx.user(db, "u1", spend=0.0, budget_duration="1d", budget_reset_at=TOMORROW)
    fx.spend_log(db, "genesis", datetime(2026, 5, 1), 0.25, api_key="someone-else")
    for who, extra in (("k1", {"api_key": "hash-k1"}), ("k2", {"api_key": "hash-k2"}), ("u1", {"user": "u1"})):
        fx.spend_log(db, f"{who}-old", datetime(2026, 6, 9, 10), 5.0, **extra)  # yesterday: outside the window
        fx.spend_log(db, f"{who}-a", datetime(2026, 6, 10, 8), 2.0, **extra)
        fx.spend_log(db, f"{who}-b", datetime(2026, 6, 10, 9), 1.5, **extra)


def repair(cli, *args: str):
    return cli("budget", "sync", "--repair-spend", "--now", REPAIR_NOW, "--json", *args)


@needs_redis
def test_repair_counts_spend_waiting_in_the_buffers(cli, db, namespace: str) -> None:
    seed(db)
    fill(namespace, lock_ttl=0)
    before = lengths(namespace)
    checked = repair(cli, "--check", "--redis-url", REDIS, "--redis-namespace", namespace)
    assert checked.code == 3, checked  # u1 only
    result = repair(cli, "--redis-url", REDIS, "--redis-namespace", namespace)
    assert result.code == 0, result
    repaired = {c["id"]: c["changes"]["spend"] for c in result.json()["changes"]}
    assert repaired == {"u1": {"old": 0.0, "new": 2.0}}
    assert counters(db) == {"hash-k1": 4.0, "hash-k2": 1.5, "u1": 2.0}
    assert any("on its way in the proxies' Redis" in w for w in result.json()["warnings"])
    assert lengths(namespace) == before  # the buffers are only read


@needs_redis
def test_a_parked_log_already_written_is_counted_once(cli, db, namespace: str) -> None:
    import fix_budget as fx

    seed(db)
    fx.spend_log(db, "req-parked-1", datetime(2026, 6, 10, 11, 40), 1.25, api_key="hash-k1", user="u1")
    fill(namespace, lock_ttl=0)
    result = repair(cli, "--redis-url", REDIS, "--redis-namespace", namespace)
    assert result.code == 0, result
    assert counters(db) == {"hash-k1": 4.0, "hash-k2": 1.5, "u1": 2.0}


def test_without_the_buffers_repair_would_count_waiting_spend_twice(cli, db) -> None:
    seed(db)
    result = repair(cli, "--dry-run")
    repaired = {c["id"]: c["changes"]["spend"]["new"] for c in result.json()["changes"]}
    assert repaired == {"hash-k1": 3.5, "hash-k2": 3.5, "u1": 3.5}  # what the buffers make wrong


def test_entities_whose_buffered_spend_moved_between_reads() -> None:
    from litellm_dbctl.budget import repair as budget_repair
    from litellm_dbctl.spend.buffer import Waiting
    from litellm_dbctl.spend.buffer_entries import ParkedLog

    log = ParkedLog("r", datetime(2026, 6, 10), 1.0, (("key", "a"), ("user", "u")), False)
    first = Waiting({("key", "a"): 1.0, ("team", "t"): 2.0}, (log,))
    second = Waiting({("key", "a"): 1.0, ("team", "t"): 0.5}, ())  # t written meanwhile, the log too
    assert budget_repair._moved(first, second) == {("team", "t"), ("key", "a"), ("user", "u")}
    assert budget_repair._moved(first, first) == set()
    params = budget_repair._buffer_params(first, "key")
    assert (params["waiting_ids"], params["waiting_spend"], params["parked_ids"]) == (["a"], [1.0], ["a"])
