"""dbctl logs prune: whole UTC days before a cutoff go (with their tool-index rows), in batches or
by dropping partitions; a day whose daily tables do not match its logs is refused unless --force;
a run killed midway is finished by the next; a proxy writing meanwhile loses nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import logs_data
import pytest
from helpers import killed_at
from hypothesis import given
from hypothesis import strategies as st
from logs_data import FIRST, edge_logs, insert, request_ids, tool_ids

from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.logs import batches, prune
from litellm_dbctl.logs.batches import Pace, Throttle, cutoff_for, next_size
from litellm_dbctl.logs.prune import Partition, assemble, parse_bound

UTC = timezone.utc
DAYS = [FIRST + timedelta(days=n) for n in range(4)]  # pruned: DAYS[0..1]; kept: DAYS[2..3]
UNTIL = ["--until", str(DAYS[1])]


# -- the rules, without a database ----------------------------------------------------------------


@given(now=st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
       seconds=st.floats(0, 400 * 86400))
def test_the_cutoff_is_the_midnight_at_or_before_now_minus_the_age(now: datetime, seconds: float) -> None:
    cutoff = cutoff_for(older_than=seconds, now=now)
    assert cutoff.time() == datetime.min.time() and cutoff.tzinfo == UTC
    assert now - timedelta(seconds=seconds) - timedelta(days=1) < cutoff <= now - timedelta(seconds=seconds)


def test_until_is_a_day_whose_end_is_the_cutoff_and_one_of_the_two_is_required() -> None:
    assert cutoff_for(until=datetime(2026, 3, 2, tzinfo=UTC)) == datetime(2026, 3, 2, tzinfo=UTC)
    assert cutoff_for(until=datetime(2026, 3, 2, 15, tzinfo=UTC)) == datetime(2026, 3, 2, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        cutoff_for()
    with pytest.raises(InvalidInput):
        cutoff_for(older_than=1.0, until=datetime(2026, 3, 2, tzinfo=UTC))


def test_partition_bounds_as_postgres_prints_them() -> None:
    part = parse_bound("p", "FOR VALUES FROM ('2026-06-01 00:00:00') TO ('2026-06-02 00:00:00')", 8192)
    assert part == Partition("p", datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC), 8192)
    assert parse_bound("d", "DEFAULT").default
    assert parse_bound("m", "FOR VALUES FROM (MINVALUE) TO ('2026-06-02 00:00:00')").lower is None
    assert parse_bound("x", "FOR VALUES IN ('a')").default  # no range: never dropped


def test_a_plan_drops_whole_partitions_before_the_cutoff_and_deletes_the_other_days() -> None:
    cutoff = datetime(2026, 6, 3, tzinfo=UTC)
    weekly = Partition("LiteLLM_SpendLogs_p20260525", datetime(2026, 5, 25, tzinfo=UTC),
                       datetime(2026, 6, 1, tzinfo=UTC), 100)
    spanning = Partition("LiteLLM_SpendLogs_p20260601", datetime(2026, 6, 1, tzinfo=UTC),
                         datetime(2026, 6, 8, tzinfo=UTC), 50)
    days = {date(2026, 5, 30): 3, date(2026, 5, 31): 4, date(2026, 6, 1): 5, date(2026, 6, 2): 6}
    plan = assemble(cutoff, days, {date(2026, 6, 2): 1}, [weekly, spanning, Partition("d", None, None, 0, True)])
    assert [(s.partition, s.days, s.rows) for s in plan.steps] == [
        ("LiteLLM_SpendLogs_p20260525", (date(2026, 5, 30), date(2026, 5, 31)), 7),
        (None, (date(2026, 6, 1),), 5), (None, (date(2026, 6, 2),), 6)]
    assert plan.tool_rows == 1 and plan.rows == 18


def test_batches_shrink_when_slow_and_the_throttle_keeps_the_rate() -> None:
    assert next_size(5000, 5000, 2.0, 1.0) == 2500
    assert next_size(2500, 5000, 0.1, 1.0) == 5000
    assert next_size(150, 5000, 9.0, 1.0) == batches.MIN_BATCH
    now = [0.0]
    throttle = Throttle(Pace(max_rate=1000, pause=0.01), clock=lambda: now[0])
    assert throttle.wait_for(5000) == pytest.approx(5.0)  # 5000 rows at 1000/s: due at t=5
    now[0] = 6.0
    assert throttle.wait_for(100) == pytest.approx(0.01)  # ahead of the rate: only the pause


# -- against a database ----------------------------------------------------------------------------


@pytest.fixture
def reconciled(db, cli):
    """Logs at the UTC edges of DAYS (tool-index rows too), daily tables reconciled to match them."""
    insert(db.url, edge_logs(DAYS))
    result = cli("daily", "reconcile", "--since", str(DAYS[0]), "--until", str(DAYS[-1]), "-q")
    assert result.code == 0, result
    return db


def _kept_ids() -> set[str]:
    return {r["request_id"] for r in edge_logs(DAYS[2:])}


def test_dry_run_counts_what_would_go_and_changes_nothing(reconciled, cli) -> None:
    before = request_ids(reconciled.url)
    result = cli("--json", "logs", "prune", *UNTIL, "--dry-run")
    assert result.code == 3, result
    out = result.json()
    assert out["rows"] == 6 and out["tool_index_rows"] == 6 and out["refused"] == []
    assert [(d["day"], d["action"]) for d in out["days"]] == [(str(DAYS[0]), "would delete"),
                                                               (str(DAYS[1]), "would delete")]
    assert request_ids(reconciled.url) == before
    assert reconciled.value("SELECT to_regclass('dbctl_logs_prune_days')") is None


def test_prune_deletes_whole_days_at_their_utc_edges_with_their_tool_index_rows(reconciled, cli) -> None:
    daily = reconciled.value('SELECT count(*) FROM "LiteLLM_DailyUserSpend"')
    result = cli("--json", "logs", "prune", *UNTIL)
    assert result.code == 0, result
    out = result.json()
    assert out["rows"] == 6 and out["tool_index_rows"] == 6
    assert request_ids(reconciled.url) == _kept_ids()  # DAYS[2] 00:00:00.000 stays, DAYS[1] 23:59:59.999 goes
    assert tool_ids(reconciled.url) == _kept_ids()
    assert reconciled.value('SELECT count(*) FROM "LiteLLM_DailyUserSpend"') == daily  # the rollups stay
    assert reconciled.value('SELECT count(*) FROM "dbctl_logs_prune_days"') == 0
    again = cli("--json", "logs", "prune", *UNTIL)
    assert again.code == 0 and again.json()["rows"] == 0


def test_older_than_prunes_whole_days_before_the_midnight_it_names(db, cli) -> None:
    today = datetime.now(UTC).date()
    insert(db.url, edge_logs([today - timedelta(days=91), today - timedelta(days=90)]))
    result = cli("--json", "logs", "prune", "--older-than", "90d", "--force")
    assert result.code == 0, result
    assert result.json()["cutoff"].startswith(str(today - timedelta(days=90)))
    assert request_ids(db.url) == {r["request_id"] for r in edge_logs([today - timedelta(days=90)])}


def test_a_day_whose_daily_tables_do_not_match_is_refused_unless_forced(reconciled, cli) -> None:
    insert(reconciled.url, [logs_data.log_row("late", logs_data.midnight(DAYS[1]) + timedelta(hours=3))])
    before = request_ids(reconciled.url)
    result = cli("--json", "logs", "prune", *UNTIL)
    assert result.code == 4, result
    assert [r["day"] for r in result.json()["refused"]] == [str(DAYS[1])]
    assert f"dbctl daily reconcile --since {DAYS[1]} --until {DAYS[1]}" in result.stderr
    assert request_ids(reconciled.url) == before  # nothing deleted, not even the matching day
    assert cli("logs", "prune", *UNTIL, "--dry-run").code == 4
    forced = cli("--json", "logs", "prune", *UNTIL, "--force")
    assert forced.code == 0, forced
    assert forced.json()["rows"] == 7
    assert request_ids(reconciled.url) == _kept_ids()


def test_bad_values_are_one_line_and_exit_2(cli) -> None:
    for args in (["--older-than", "nan"], ["--older-than", "90d", "--until", "2026-01-01"], [],
                 ["--until", "2026-13-01"], ["--older-than", "99999999999d"], ["--older-than", "90d", "--max-rate", "inf"],
                 ["--until", str(datetime.now(UTC).date() + timedelta(days=3))], ["--until", "x\x00"]):
        result = cli("logs", "prune", *args)
        assert result.code == 2, (args, result)
        assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_prune_killed_midway_is_finished_by_the_next_run_nothing_lost_nothing_left(reconciled, cli) -> None:
    many = [logs_data.log_row(f"bulk-{n}", logs_data.midnight(DAYS[1]) + timedelta(seconds=n)) for n in range(600)]
    insert(reconciled.url, many)
    assert cli("daily", "reconcile", "--since", str(DAYS[1]), "--until", str(DAYS[1]), "-q").code == 0
    doomed = request_ids(reconciled.url) - _kept_ids()
    # killed in its fourth pause: DAYS[0] is gone (1 batch), DAYS[1] is 3 batches in
    killed_at("LOGS_BATCH", ["--database-url", reconciled.url, "logs", "prune", *UNTIL, "--batch-size", "100"],
              count=4, seconds=0.5)
    left = request_ids(reconciled.url)
    assert _kept_ids() <= left and len(left & doomed) == len(doomed) - 3 - 200
    assert reconciled.value("SELECT count(*) FROM dbctl_logs_prune_days") == 1  # DAYS[1] begun
    resumed = cli("--json", "logs", "prune", *UNTIL)  # no --force: the begun day is not checked again
    assert resumed.code == 0, resumed
    assert resumed.json()["resumed"] == [str(DAYS[1])]
    assert resumed.json()["rows"] == len(left & doomed)  # each row counted once over the two runs
    assert request_ids(reconciled.url) == _kept_ids()
    assert tool_ids(reconciled.url) == _kept_ids()


@pytest.mark.slow
def test_a_proxy_inserting_during_a_prune_loses_nothing(db, cli) -> None:
    old = [logs_data.log_row(f"old-{n}", logs_data.midnight(DAYS[0]) + timedelta(seconds=n)) for n in range(3000)]
    insert(db.url, old)
    with logs_data.writing(db.url) as writer:
        result = cli("--json", "logs", "prune", "--until", str(DAYS[0]), "--force", "--batch-size", "200",
                     "--pause", "5ms")
    assert result.code == 0, result
    assert result.json()["rows"] == 3000
    assert writer.failures == [] and len(writer.inserted) > 10
    assert request_ids(db.url) == set(writer.inserted)


def test_a_partitioned_table_loses_whole_partitions_and_the_rest_row_by_row(db, cli) -> None:
    logs_data.partition(db.url, DAYS[1:])  # DAYS[0]'s rows land in the DEFAULT partition
    insert(db.url, edge_logs(DAYS))
    dry = cli("--json", "logs", "prune", *UNTIL, "--force", "--dry-run")
    assert dry.code == 3, dry
    assert [(p["name"], p["action"], p["rows"]) for p in dry.json()["partitions"]] == [
        (f"LiteLLM_SpendLogs_p{DAYS[1]:%Y%m%d}", "would drop", 3)]
    result = cli("--json", "logs", "prune", *UNTIL, "--force")
    assert result.code == 0, result
    out = result.json()
    assert out["partitioned"] is True and out["rows"] == 6
    assert [(d["day"], d["action"]) for d in out["days"]] == [(str(DAYS[0]), "deleted"), (str(DAYS[1]), "dropped")]
    assert out["partitions"][0]["bytes"] > 0
    assert logs_data.partitions(db.url) == sorted(["LiteLLM_SpendLogs_default"]
                                                  + [f"LiteLLM_SpendLogs_p{d:%Y%m%d}" for d in DAYS[2:]])
    assert db.value(f"SELECT to_regclass('\"LiteLLM_SpendLogs_p{DAYS[1]:%Y%m%d}\"')") is None  # dropped, not left detached
    assert request_ids(db.url) == _kept_ids()
    assert tool_ids(db.url) == _kept_ids()


def test_the_allow_day_hook_skips_a_day_it_refuses(reconciled) -> None:
    from litellm_dbctl.db import config

    asked: list[date] = []

    def allow(conn: object, day: date) -> bool:
        asked.append(day)
        return day != DAYS[0]

    result = prune.prune(config.parse(reconciled.url, "test"), prune.midnight(DAYS[2]), allow_day=allow,
                         pace=Pace(pause=0))
    assert asked == DAYS[:2]
    assert [(d.day, d.action, d.rows) for d in result.days] == [(DAYS[0], "skipped", 3), (DAYS[1], "deleted", 3)]
    assert result.rows == 3
    assert request_ids(reconciled.url) == _kept_ids() | {r["request_id"] for r in edge_logs(DAYS[:1])}


def test_another_logs_run_holding_the_lock_is_exit_5(reconciled, cli) -> None:
    from litellm_dbctl.db import database

    with reconciled.connect() as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [database.family_key("logs")])
        result = cli("logs", "prune", *UNTIL, "--lock-timeout", "200ms")
        assert result.code == 5, result
        assert cli("logs", "scrub", *UNTIL, "--lock-timeout", "200ms").code == 5
    assert len(request_ids(reconciled.url)) == 12


def test_archive_to_writes_each_day_before_deleting_it_and_the_manifest_holds_every_deleted_row(
        reconciled, cli, tmp_path) -> None:
    import gzip
    import json

    from litellm_dbctl.logs import manifest

    directory = tmp_path / "archive"
    result = cli("--json", "logs", "prune", *UNTIL, "--archive-to", str(directory), "--format", "jsonl.gz")
    assert result.code == 0, result
    assert result.json()["rows"] == 6 and result.json()["archive_to"] == str(directory)
    assert request_ids(reconciled.url) == _kept_ids()
    entries = manifest.verified_days(directory)
    assert sorted(entries) == DAYS[:2] and sum(e.rows for e in entries.values()) == 6
    archived: set[str] = set()
    for entry in entries.values():
        with gzip.open(directory / entry.file, "rt") as lines:
            archived |= {json.loads(line)["request_id"] for line in lines}
    assert archived == {r["request_id"] for r in edge_logs(DAYS[:2])}


def test_archive_to_rewrites_a_day_whose_file_no_longer_verifies_and_keeps_a_day_it_cannot_archive(
        reconciled, cli, tmp_path) -> None:
    from litellm_dbctl.logs import manifest

    directory = tmp_path / "archive"
    assert cli("logs", "archive", "--until", str(DAYS[1]), "--to", str(directory), "--format", "jsonl.gz").code == 0
    first = manifest.read(directory)[DAYS[0]]
    (directory / first.file).write_bytes(b"tampered")
    (directory / manifest.file_name(DAYS[1], "jsonl.gz")).unlink()
    (directory / manifest.file_name(DAYS[1], "jsonl.gz")).mkdir()  # this day's file cannot be written
    result = cli("--json", "logs", "prune", *UNTIL, "--archive-to", str(directory), "--format", "jsonl.gz")
    assert result.code == 4, result
    assert [(d["day"], d["action"]) for d in result.json()["days"]] == [(str(DAYS[0]), "deleted"),
                                                                         (str(DAYS[1]), "skipped")]
    assert str(DAYS[1]) in result.stderr and "could not be verified" in result.stderr
    assert manifest.verified_days(directory).keys() == {DAYS[0]}
    assert request_ids(reconciled.url) == _kept_ids() | {r["request_id"] for r in edge_logs(DAYS[1:2])}
