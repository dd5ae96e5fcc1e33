"""`dbctl logs size`: bytes and rows of the spend-log tables from the catalog, months estimated from the
planner's statistics (or a block sample) close to the counted ones, `--exact` equal to SQL, growth,
the oldest row, the days until `--max-size`, and a partitioned table summed over its partitions."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pytest
from helpers import Database
from hypothesis import given
from hypothesis import strategies as st

from litellm_dbctl.common import sizes
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.logs import size

NOW = datetime.now(timezone.utc)


@pytest.mark.parametrize(("text", "expected"), [
    ("500GB", 500 * 1024**3), ("500 GiB", 500 * 1024**3), ("1.5TB", int(1.5 * 1024**4)), ("750mb", 750 * 1024**2),
    ("1048576", 1048576), ("2k", 2048), ("1 PB", 1024**5),
])
def test_sizes_read_as_pg_size_pretty_prints_them(text: str, expected: int) -> None:
    assert sizes.parse(text, option="--max-size") == expected


@pytest.mark.parametrize("text", ["", "GB", "-5GB", "0", "0.1", "nan", "inf", "1e999GB", "5 XB", "5GB\x00", "2EB",
                                  "9" * 400])
def test_bad_sizes_are_refused_naming_the_option(text: str) -> None:
    with pytest.raises(InvalidInput, match="--max-size"):
        sizes.parse(text, option="--max-size")


@given(st.integers(1, 1024**5))
def test_a_printed_size_reads_back_within_its_rounding(value: int) -> None:
    shown = sizes.pretty(value)
    number, unit = shown.split(" ")
    back = sizes.parse(number + ("" if unit == "bytes" else unit[0]), option="--max-size")
    assert math.isclose(back, value, rel_tol=0.06)


def test_days_until_a_limit() -> None:
    assert size.days_until(100, None, 10.0) is None
    assert size.days_until(100, 50, 10.0) == 0.0
    assert size.days_until(100, 200, 10.0) == 10.0
    assert size.days_until(100, 200, 0.0) is None and size.days_until(100, 200, None) is None


def months_logs(db: Database, table: str = "LiteLLM_SpendLogs") -> None:
    """4,000 logs a day (one every 21.6 s) from 90 days ago to now, and a few rows in the other tables."""
    db.execute(f"""INSERT INTO "{table}" (request_id, call_type, spend, "startTime", "endTime", metadata)
                   SELECT 'r' || i, 'acompletion', 0.001, t, t, jsonb_build_object('i', i)
                   FROM generate_series(1, 360000) AS i,
                        LATERAL (SELECT now() AT TIME ZONE 'UTC' - i * interval '21.6 seconds') AS s(t)""")
    db.execute("""INSERT INTO "LiteLLM_SpendLogToolIndex" (request_id, tool_name, start_time)
                  SELECT 'r' || i, 'tool', now() FROM generate_series(1, 50) AS i""")


def exact_months(db: Database) -> dict[str, int]:
    return {r["m"]: r["n"] for r in db.query("""SELECT to_char("startTime", 'YYYY-MM') AS m, count(*) AS n
                                                FROM "LiteLLM_SpendLogs" GROUP BY 1""")}


@pytest.mark.slow
def test_estimates_come_from_statistics_or_a_sample_and_exact_counts(cli, db: Database) -> None:
    months_logs(db)
    expected = exact_months(db)
    sampled = cli("logs", "size", "--json").json()  # never analyzed: a block sample
    assert sampled["method"] == "sample"
    db.execute('ANALYZE "LiteLLM_SpendLogs", "LiteLLM_SpendLogToolIndex"')
    result = cli("logs", "size", "--json", "--max-size", "1TB")
    assert result.code == 0, result
    report = result.json()
    assert report["method"] == "statistics"
    for payload in (sampled, report):
        months = {m["month"]: m["rows"] for m in payload["months"]}
        assert set(months) == set(expected)
        for month, rows in expected.items():
            assert months[month] == pytest.approx(rows, rel=0.1, abs=2000), (payload["method"], month)
    tables = {t["table"]: t for t in report["tables"]}
    assert set(tables) >= {"LiteLLM_SpendLogs", "LiteLLM_SpendLogToolIndex", "LiteLLM_DailyTagSpend",
                           "LiteLLM_HealthCheckTable"}
    logs = tables["LiteLLM_SpendLogs"]
    assert logs["rows"] == pytest.approx(360000, rel=0.02) and not logs["rows_exact"]
    assert logs["heap_bytes"] > 0 and logs["index_bytes"] > 0
    assert logs["total_bytes"] == logs["heap_bytes"] + logs["toast_bytes"] + logs["index_bytes"]
    assert report["rows_per_day"] == pytest.approx(4000, rel=0.1)
    assert report["bytes_per_day"] > 0 and report["database"]["bytes"] > logs["total_bytes"]
    assert report["oldest"].startswith(db.value("""SELECT to_char(min("startTime"), 'YYYY-MM-DD"T"HH24:MI:SS')
                                                   FROM "LiteLLM_SpendLogs" """))
    assert report["days_until_limit"] > 1000
    assert any("free space is not visible" in note for note in report["notes"])
    exact = cli("logs", "size", "--exact", "--json").json()
    assert exact["method"] == "exact"
    assert {m["month"]: m["rows"] for m in exact["months"]} == expected
    assert [d["rows"] for d in exact["days"]][-29:] == [4000] * 29
    exact_tables = {t["table"]: t for t in exact["tables"]}
    assert exact_tables["LiteLLM_SpendLogs"]["rows"] == 360000 and exact_tables["LiteLLM_SpendLogToolIndex"]["rows"] == 50
    full = cli("logs", "size", "--json", "--max-size", "1kB").json()
    assert full["days_until_limit"] == 0
    text = cli("logs", "size", "--max-size", "1TB")
    assert text.code == 0 and "LiteLLM_SpendLogs" in text.stdout and "days" in text.stdout


def test_a_partitioned_table_is_summed_over_its_partitions(cli, db: Database) -> None:
    db.execute('ALTER TABLE "LiteLLM_SpendLogs" RENAME TO "LiteLLM_SpendLogs_old"')
    db.execute("""CREATE TABLE "LiteLLM_SpendLogs" (LIKE "LiteLLM_SpendLogs_old" INCLUDING DEFAULTS)
                  PARTITION BY RANGE ("startTime")""")
    db.execute("""CREATE TABLE "LiteLLM_SpendLogs_p20261001" PARTITION OF "LiteLLM_SpendLogs"
                  FOR VALUES FROM ('2026-10-01') TO ('2026-11-01')""")
    db.execute("""CREATE TABLE "LiteLLM_SpendLogs_p20261101" PARTITION OF "LiteLLM_SpendLogs"
                  FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')""")
    db.execute("""INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, spend, "startTime", "endTime")
                  SELECT 'r' || i, 'acompletion', 0.5, t, t FROM generate_series(1, 6000) AS i,
                  LATERAL (SELECT timestamp '2026-10-01' + i * interval '10 minutes') AS s(t)""")
    db.execute('ANALYZE "LiteLLM_SpendLogs_p20261001", "LiteLLM_SpendLogs_p20261101"')
    report = cli("logs", "size", "--json").json()
    logs = next(t for t in report["tables"] if t["table"] == "LiteLLM_SpendLogs")
    assert logs["partitioned"] and logs["partitions"] == 2
    assert [p["partition"] for p in report["partitions"]] == ["LiteLLM_SpendLogs_p20261001", "LiteLLM_SpendLogs_p20261101"]
    assert logs["rows"] == 6000 == sum(p["rows"] for p in report["partitions"])
    assert logs["heap_bytes"] > 0
    months = {m["month"]: m["rows"] for m in report["months"]}
    assert months["2026-10"] == pytest.approx(4463, rel=0.05) and months["2026-11"] == pytest.approx(1537, rel=0.1)
    exact = cli("logs", "size", "--exact", "--json").json()
    assert {m["month"]: m["rows"] for m in exact["months"]} == {"2026-10": 4463, "2026-11": 1537}


def test_a_bad_limit_is_exit_2_naming_it(cli) -> None:
    result = cli("logs", "size", "--max-size", "lots")
    assert result.code == 2 and "--max-size" in result.stderr
