"""`dbctl logs archive`: one file per UTC day, read back by DuckDB (Parquet) and Python (JSON lines,
CSV) with the rows and spend SQL finds; days at the UTC edges; a kill midway and a resume that
duplicates nothing; a missing pyarrow is one line and exit 2."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fix_budget import spend_log
from helpers import Database, killed_at

from litellm_dbctl.db import database
from litellm_dbctl.logs import archive, manifest

DAY1, DAY2, DAY3 = date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)
EDGES = {  # request id -> startTime: the last and first instants of adjacent UTC days
    "last-of-day1": datetime(2026, 10, 1, 23, 59, 59, 999000),
    "first-of-day2": datetime(2026, 10, 2, 0, 0, 0),
    "first-of-day1": datetime(2026, 10, 1, 0, 0, 0),
    "last-of-day3": datetime(2026, 10, 3, 23, 59, 59, 999000),
    "first-of-day4": datetime(2026, 10, 4, 0, 0, 0),  # after --until 2026-10-03: not archived
}


def edge_logs(db: Database) -> None:
    """The UTC-edge rows, plus values a careless CSV or JSON round trip would change."""
    for n, (request_id, start) in enumerate(EDGES.items()):
        spend_log(db, request_id, start, 0.1 * (n + 1) + 1e-9, model="gpt-4o", metadata=json.dumps({"n": n}))
    spend_log(db, "tricky", datetime(2026, 10, 2, 12), 1 / 3, model="a,\"b\"\nc", user="null", team_id=None,
              end_user="", metadata=json.dumps({"text": "line\nbreak, \"quoted\"", "none": None, "nested": [1, {"x": 2}]}),
              prompt_tokens=2_000_000_000, request_duration_ms=None)


def per_day_sql(db: Database, until: date) -> dict[date, tuple[int, float]]:
    rows = db.query('SELECT "startTime"::date AS day, count(*) AS n, sum(spend) AS spend FROM "LiteLLM_SpendLogs" '
                    'WHERE "startTime" < %s GROUP BY 1', (until,))
    return {r["day"]: (r["n"], r["spend"]) for r in rows}


def test_parquet_files_read_back_by_duckdb_hold_each_days_rows_and_spend(cli, db: Database, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    edge_logs(db)
    result = cli("logs", "archive", "--until", "2026-10-03", "--to", str(tmp_path), "--json")
    assert result.code == 0, result
    payload = result.json()
    assert [d["day"] for d in payload["days"]] == ["2026-10-01", "2026-10-02", "2026-10-03"]
    expected = per_day_sql(db, date(2026, 10, 4))
    for day in (DAY1, DAY2, DAY3):
        path = tmp_path / f"spendlogs-{day}.parquet"
        rows, spend = duckdb.sql(f"SELECT count(*), sum(spend) FROM '{path}'").fetchall()[0]
        assert rows == expected[day][0]
        assert spend == pytest.approx(expected[day][1], rel=1e-12)
        outside = duckdb.sql(f"""SELECT count(*) FROM '{path}' WHERE "startTime" < TIMESTAMP '{day}'
                                 OR "startTime" >= TIMESTAMP '{day + timedelta(days=1)}'""").fetchall()[0][0]
        assert outside == 0
    day1 = tmp_path / f"spendlogs-{DAY1}.parquet"
    assert duckdb.sql(f"""SELECT "startTime" FROM '{day1}' WHERE request_id = 'last-of-day1'""").fetchall()[0][0] \
        == EDGES["last-of-day1"]
    types = dict(duckdb.sql(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{day1}')").fetchall())
    assert types["startTime"] == "TIMESTAMP" and types["spend"] == "DOUBLE"
    assert types["prompt_tokens"] == "BIGINT" and types["metadata"] == "VARCHAR"
    columns = [r["attname"] for r in db.query("SELECT attname FROM pg_attribute WHERE attrelid = "
                                               "'\"LiteLLM_SpendLogs\"'::regclass AND attnum > 0 AND NOT attisdropped "
                                               "ORDER BY attnum")]
    assert list(types) == columns
    tricky = duckdb.sql(f"""SELECT model, "user", team_id, end_user, metadata, spend, prompt_tokens,
                                   request_duration_ms
                            FROM '{tmp_path / f"spendlogs-{DAY2}.parquet"}' WHERE request_id = 'tricky'""").fetchall()[0]
    stored = db.query("""SELECT metadata::text AS metadata FROM "LiteLLM_SpendLogs" WHERE request_id = 'tricky'""")[0]
    assert tricky[:4] == ("a,\"b\"\nc", "null", None, "")
    assert json.loads(tricky[4]) == json.loads(stored["metadata"])
    assert tricky[5] == 1 / 3 and tricky[6] == 2_000_000_000 and tricky[7] is None
    entries = manifest.verified_days(tmp_path)
    assert sorted(entries) == [DAY1, DAY2, DAY3]
    assert all(entries[d].rows == expected[d][0] and entries[d].format == "parquet" for d in entries)
    assert json.loads((tmp_path / "manifest.json").read_text())["days"]["2026-10-01"]["dbctl_version"]


def test_a_parquet_row_group_is_bounded_by_its_bytes(cli, db: Database, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    for n in range(40):
        spend_log(db, f"r{n:02d}", datetime(2026, 10, 2, 1, n), 0.5, model="gpt-4o", metadata=json.dumps({"n": n}))
    monkeypatch.setattr(archive, "CSV_BLOCK", 2048)  # a few rows per parsed batch
    monkeypatch.setattr(archive, "ROW_GROUP_BYTES", 1)  # so each batch closes its row group
    result = cli("logs", "archive", "--since", "2026-10-02", "--until", "2026-10-02", "--to", str(tmp_path))
    assert result.code == 0, result
    parquet = pq.ParquetFile(tmp_path / "spendlogs-2026-10-02.parquet")
    groups = [parquet.metadata.row_group(i).num_rows for i in range(parquet.metadata.num_row_groups)]
    assert len(groups) > 3 and sum(groups) == 40, groups
    assert sorted(parquet.read(columns=["request_id"]).column(0).to_pylist()) == [f"r{n:02d}" for n in range(40)]


@pytest.mark.parametrize("fmt", ["jsonl.gz", "csv.gz"])
def test_jsonl_and_csv_files_read_back_with_python(cli, db: Database, tmp_path: Path, fmt: str) -> None:
    edge_logs(db)
    assert cli("logs", "archive", "--until", "2026-10-03", "--to", str(tmp_path), "--format", fmt).code == 0
    expected = per_day_sql(db, date(2026, 10, 4))
    for day in (DAY1, DAY2, DAY3):
        with gzip.open(tmp_path / f"spendlogs-{day}.{fmt}", "rt", encoding="utf-8", newline="") as source:
            if fmt == "jsonl.gz":
                records: list[dict[str, Any]] = [json.loads(line) for line in source]
            else:
                records = list(csv.DictReader(io.StringIO(source.read())))
        assert len(records) == expected[day][0]
        assert sum(float(r["spend"]) for r in records) == pytest.approx(expected[day][1], rel=1e-12)
        assert all(str(r["startTime"])[:10] == day.isoformat() for r in records)
        tricky = [r for r in records if r["request_id"] == "tricky"]
        if tricky:
            assert tricky[0]["model"] == "a,\"b\"\nc" and tricky[0]["user"] == "null"
            metadata = tricky[0]["metadata"]
            assert (metadata if fmt == "jsonl.gz" else json.loads(metadata))["nested"] == [1, {"x": 2}]
    entries = manifest.verified_days(tmp_path)
    assert {d: e.rows for d, e in entries.items()} == {d: expected[d][0] for d in (DAY1, DAY2, DAY3)}


def many_logs(db: Database, days: int, per_day: int) -> None:
    db.execute("""INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, spend, "startTime", "endTime", metadata)
                  SELECT 'r' || d || '-' || i, 'acompletion', (i %% 97) / 1000.0,
                         timestamp '2026-10-01' + d * interval '1 day' + i * (interval '86399 seconds' / %s),
                         timestamp '2026-10-01' + d * interval '1 day' + i * (interval '86399 seconds' / %s),
                         jsonb_build_object('i', i, 'pad', repeat('x', 200))
                  FROM generate_series(0, %s - 1) AS d, generate_series(0, %s - 1) AS i""",
               (per_day, per_day, days, per_day))


def _run_until_paused(url: str, directory: Path, pause: str) -> None:
    """Run the archive in a child process that pauses at `pause`, and kill -9 it there."""
    killed_at(pause, ["--database-url", url, "logs", "archive", "--until", "2026-10-04", "--to", str(directory),
                      "--format", "parquet"])


@pytest.mark.slow
def test_killed_midway_then_resumed_nothing_is_lost_or_duplicated(cli, db: Database, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    many_logs(db, days=4, per_day=3000)
    _run_until_paused(db.url, tmp_path, "LOGS_ARCHIVE_WRITTEN")  # first day's file written, not yet renamed
    assert manifest.stale_partials(tmp_path) and not (tmp_path / manifest.NAME).exists()
    _run_until_paused(db.url, tmp_path, "LOGS_ARCHIVE_DAY")  # first day archived and in the manifest
    assert sorted(manifest.read(tmp_path)) == [DAY1]
    result = cli("logs", "archive", "--until", "2026-10-04", "--to", str(tmp_path), "--json")
    assert result.code == 0, result
    statuses = {d["day"]: d["status"] for d in result.json()["days"]}
    assert statuses == {"2026-10-01": "skipped", "2026-10-02": "archived", "2026-10-03": "archived",
                        "2026-10-04": "archived"}
    assert manifest.stale_partials(tmp_path) == []
    entries = manifest.verified_days(tmp_path)
    expected = per_day_sql(db, date(2026, 10, 5))
    assert {d: e.rows for d, e in entries.items()} == {d: n for d, (n, _) in expected.items()}
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["manifest.json"] + [f"spendlogs-2026-10-0{n}.parquet" for n in range(1, 5)]
    total, distinct = duckdb.sql(f"SELECT count(*), count(DISTINCT request_id) FROM '{tmp_path}/*.parquet'").fetchall()[0]
    assert total == distinct == sum(n for n, _ in expected.values())
    again = cli("logs", "archive", "--until", "2026-10-04", "--to", str(tmp_path), "--json").json()
    assert {d["status"] for d in again["days"]} == {"skipped"}


def test_jobs_write_the_same_files_and_manifest_as_one_day_at_a_time(cli, db: Database, tmp_path: Path) -> None:
    many_logs(db, days=5, per_day=300)
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    one = cli("logs", "archive", "--until", "2026-10-05", "--to", str(serial), "--json")
    three = cli("logs", "archive", "--until", "2026-10-05", "--to", str(parallel), "-j", "3", "--json")
    assert one.code == 0 and three.code == 0, (one, three)
    assert [d["day"] for d in three.json()["days"]] == [f"2026-10-0{n}" for n in range(1, 6)]
    assert {d["status"] for d in three.json()["days"]} == {"archived"}
    expected = per_day_sql(db, date(2026, 10, 6))
    a, b = manifest.verified_days(serial), manifest.verified_days(parallel)
    assert {d: e.rows for d, e in b.items()} == {d: n for d, (n, _) in expected.items()}
    assert {d: (e.rows, e.spend, e.sha256) for d, e in a.items()} == {d: (e.rows, e.spend, e.sha256) for d, e in b.items()}
    again = cli("logs", "archive", "--until", "2026-10-05", "--to", str(parallel), "--jobs", "2", "--json")
    assert {d["status"] for d in again.json()["days"]} == {"skipped"}
    assert cli("logs", "archive", "--until", "2026-10-05", "--to", str(parallel), "--jobs", "0").code == 2


@pytest.mark.slow
def test_killed_with_two_days_in_flight_then_resumed_nothing_is_lost_or_duplicated(cli, db: Database,
                                                                                  tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    many_logs(db, days=4, per_day=3000)
    killed_at("LOGS_ARCHIVE_WRITTEN", ["--database-url", db.url, "logs", "archive", "--until", "2026-10-04",
                                       "--to", str(tmp_path), "--jobs", "2"], count=2)  # two files not yet renamed
    assert len(manifest.stale_partials(tmp_path)) == 2 and not (tmp_path / manifest.NAME).exists()
    result = cli("logs", "archive", "--until", "2026-10-04", "--to", str(tmp_path), "--jobs", "2", "--json")
    assert result.code == 0, result
    assert len(result.json()["removed_partials"]) == 2 and manifest.stale_partials(tmp_path) == []
    expected = per_day_sql(db, date(2026, 10, 5))
    assert {d: e.rows for d, e in manifest.verified_days(tmp_path).items()} == {d: n for d, (n, _) in expected.items()}
    total, distinct = duckdb.sql(f"SELECT count(*), count(DISTINCT request_id) FROM '{tmp_path}/*.parquet'").fetchall()[0]
    assert total == distinct == sum(n for n, _ in expected.values())


def test_a_changed_file_is_not_verified_and_a_cut_one_is_archived_again(cli, db: Database, tmp_path: Path) -> None:
    edge_logs(db)
    assert cli("logs", "archive", "--until", "2026-10-03", "--to", str(tmp_path), "--format", "csv.gz").code == 0
    changed, cut = tmp_path / f"spendlogs-{DAY1}.csv.gz", tmp_path / f"spendlogs-{DAY2}.csv.gz"
    data = bytearray(changed.read_bytes())
    data[-9] ^= 0xFF
    changed.write_bytes(bytes(data))
    cut.write_bytes(cut.read_bytes()[:-4])
    assert sorted(manifest.verified_days(tmp_path)) == [DAY3]
    result = cli("logs", "archive", "--until", "2026-10-03", "--to", str(tmp_path), "--format", "csv.gz", "--json")
    assert {d["day"]: d["status"] for d in result.json()["days"]}[DAY2.isoformat()] == "archived"
    assert sorted(manifest.verified_days(tmp_path)) == [DAY2, DAY3]


def test_a_dry_run_writes_nothing_and_exits_3(cli, db: Database, tmp_path: Path) -> None:
    edge_logs(db)
    target = tmp_path / "archive"
    result = cli("logs", "archive", "--until", "2026-10-03", "--to", str(target), "--dry-run", "--json")
    assert result.code == 3, result
    assert [(d["day"], d["status"], d["rows"]) for d in result.json()["days"]] == [
        ("2026-10-01", "pending", 2), ("2026-10-02", "pending", 2), ("2026-10-03", "pending", 1)]
    assert not target.exists()


def test_missing_pyarrow_is_one_line_and_exit_2(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` raises ImportError
    result = cli("logs", "archive", "--until", "2026-10-03", "--to", str(tmp_path))
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [f"dbctl: error: {archive.NO_PYARROW}"]
    assert cli("logs", "archive", "--until", "2026-10-03", "--to", str(tmp_path), "--format", "jsonl.gz").code == 0


@pytest.mark.parametrize(("args", "flag"), [
    (["--until", "someday"], "--until"), (["--until", "2026-10-03", "--format", "xml"], "--format"),
    (["--until", "2026-10-03", "--since", "2026-10-05"], "--since"), (["--until", "2026-10-03\x00"], "--until"),
])
def test_bad_values_are_one_line_and_exit_2(cli, tmp_path: Path, args: list[str], flag: str) -> None:
    result = cli("logs", "archive", "--to", str(tmp_path), *args)
    assert result.code == 2, result
    assert flag in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_file_as_the_directory_is_exit_2(cli, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = cli("logs", "archive", "--until", "2026-10-03", "--to", str(tmp_path / "file"))
    assert result.code == 2 and "--to" in result.stderr


def test_another_runs_lock_is_exit_5(cli, db: Database, tmp_path: Path) -> None:
    with db.connect() as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (database.family_key("logs"),))
        result = cli("logs", "archive", "--until", "2026-10-03", "--to", str(tmp_path), "--lock-timeout", "200ms")
    assert result.code == 5, result


def test_only_whole_days_that_have_ended_are_archived() -> None:
    now = datetime(2026, 10, 5, 15, tzinfo=timezone.utc)
    utc = timezone.utc
    assert archive.whole_days(None, now, now) == (None, datetime(2026, 10, 5))
    assert archive.whole_days(datetime(2026, 10, 1, tzinfo=utc), datetime(2026, 10, 9, tzinfo=utc), now) \
        == (datetime(2026, 10, 1), datetime(2026, 10, 5))
    assert archive.whole_days(datetime(2026, 10, 1, 6, tzinfo=utc), datetime(2026, 10, 3, 6, tzinfo=utc), now) \
        == (datetime(2026, 10, 2), datetime(2026, 10, 3))
