"""`dbctl logs partition`: the plain LiteLLM_SpendLogs converted online into LiteLLM's partitioned
layout: rows at the UTC day edges land in their day's partition, nothing is lost beside a concurrent
writer (whose inserts never wait more than a second), a killed run resumes, a dry run changes nothing,
`migrate diff` stays clean, and LiteLLM's partition manager's own SQL works on the result."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import logging
import os
import re
import sys
import threading
import time
import types
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import psycopg.rows
import pytest
from helpers import Database, invoke, killed_at
from hypothesis import given
from hypothesis import strategies as st

from litellm_dbctl.logs import partition_plan as plan

# -- the layout, without a database ---------------------------------------------------------------


def test_periods_and_names_follow_litellm() -> None:
    assert plan.partition_name(date(2026, 6, 1)) == "LiteLLM_SpendLogs_p20260601"
    assert plan.period_start(date(2026, 6, 4), "week") == date(2026, 6, 1)  # a Monday
    assert plan.period_start(date(2026, 6, 30), "month") == date(2026, 6, 1)
    assert plan.next_period_start(date(2026, 12, 1), "month") == date(2027, 1, 1)
    parts = plan.covering(date(2026, 1, 30), date(2026, 2, 2), "day", 2)
    assert [p.name for p in parts] == [f"LiteLLM_SpendLogs_p2026{d}" for d in
                                       ("0130", "0131", "0201", "0202", "0203", "0204")]
    assert [p.lower for p in plan.covering(date(2026, 1, 15), date(2026, 1, 15), "month", 1)] == \
        [date(2026, 1, 1), date(2026, 2, 1)]


@given(st.dates(date(2000, 1, 1), date(2090, 1, 1)), st.integers(0, 200), st.sampled_from(plan.INTERVALS),
       st.integers(0, 12))
def test_covering_is_contiguous_and_holds_both_ends(first: date, span: int, interval: str, ahead: int) -> None:
    last = first + timedelta(days=span)
    parts = plan.covering(first, last, interval, ahead)
    assert parts[0].lower <= first and any(p.lower <= last < p.upper for p in parts)
    assert all(a.upper == b.lower for a, b in itertools.pairwise(parts))
    assert sum(p.lower > last for p in parts) == ahead
    assert all(p.name == plan.partition_name(p.lower) and plan.period_start(p.lower, interval) == p.lower
               for p in parts)


def test_bounds_parse_as_postgres_renders_them() -> None:
    part = plan.parse_bound("x", "FOR VALUES FROM ('2026-06-01 00:00:00') TO ('2026-06-02 00:00:00')")
    assert part == plan.Partition(date(2026, 6, 1), date(2026, 6, 2), "x")
    assert plan.parse_bound("d", "DEFAULT") is None
    assert plan.parse_bound("m", "FOR VALUES FROM (MINVALUE) TO ('2026-01-01 00:00:00')") is None


def test_premake_skips_ranges_another_interval_covers() -> None:
    month = plan.Partition(date(2026, 6, 1), date(2026, 7, 1), "LiteLLM_SpendLogs_p20260601")
    wanted = plan.covering(date(2026, 6, 29), date(2026, 6, 29), "day", 3)
    create, skipped = plan.to_create(wanted, [month])
    assert [p.lower for p in skipped] == [date(2026, 6, 29), date(2026, 6, 30)]
    assert [p.lower for p in create] == [date(2026, 7, 1), date(2026, 7, 2)]
    assert plan.guess_interval([month]) == "month"
    assert plan.to_create(wanted, wanted) == ([], [])


def test_remaining_steps_from_each_phase() -> None:
    assert plan.remaining_steps(None, partitioned=False, old_exists=False, keep_old=False) == [
        "prepare", "trigger", "copy", "reconcile", "swap", "drop", "cleanup", "premake"]
    assert plan.remaining_steps(plan.COPYING, partitioned=False, old_exists=False, keep_old=True)[0] == "copy"
    assert plan.remaining_steps(plan.SWAPPED, partitioned=True, old_exists=True, keep_old=False) == [
        "drop", "cleanup", "premake"]
    assert plan.remaining_steps(None, partitioned=True, old_exists=False, keep_old=False) == ["premake"]


# -- on a database --------------------------------------------------------------------------------

INSERT = ('INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, "startTime", "endTime", '
          "litellm_call_id) VALUES (%s, 'acompletion', 'k', %s, %s, %s, %s) ON CONFLICT DO NOTHING")


def add_logs(db: Database, rows: list[tuple[str, float, datetime]]) -> None:
    with db.connect() as conn, conn.cursor() as cur:
        cur.executemany(INSERT, [(rid, spend, at, at, rid) for rid, spend, at in rows])


def edge_rows() -> list[tuple[str, float, datetime]]:
    """Rows on the last and first millisecond of UTC days, and noon, over ten days (recent ones, so
    the partitions reach today)."""
    start = datetime.combine(date.today() - timedelta(days=10), datetime.min.time())
    rows = []
    for day in range(10):
        midnight = start + timedelta(days=day)
        rows += [(f"a{day}", 0.25, midnight), (f"b{day}", 1.5, midnight + timedelta(hours=12)),
                 (f"c{day}", 0.125, midnight + timedelta(days=1) - timedelta(milliseconds=1))]
    return rows


def totals(db: Database) -> tuple[int, float]:
    row = db.query('SELECT count(*) AS n, coalesce(sum(spend), 0) AS s FROM "LiteLLM_SpendLogs"')[0]
    return row["n"], row["s"]


def kind(db: Database) -> str:
    return str(db.value("SELECT relkind::text FROM pg_class WHERE relname = 'LiteLLM_SpendLogs'"))


def test_conversion_puts_each_row_in_its_utc_day_and_migrate_diff_stays_clean(cli, db) -> None:
    rows = edge_rows()
    add_logs(db, rows)
    before = totals(db)
    result = cli("logs", "partition", "--batch-size", "4", "--json")
    assert result.code == 0, result
    out = result.json()
    assert out["outcome"] == "converted" and out["rows_copied"] == len(rows) and out["batches"] >= 7
    assert kind(db) == "p" and totals(db) == before
    placed = db.query('SELECT request_id, "startTime", tableoid::regclass::text AS part FROM "LiteLLM_SpendLogs"')
    for row in placed:
        assert row["part"].strip('"') == plan.partition_name(row["startTime"].date()), row
    assert db.value("SELECT count(*) FROM pg_class WHERE relname LIKE 'dbctl\\_logs\\_partition%'") == 0
    assert db.value("SELECT to_regclass('\"LiteLLM_SpendLogs_old\"')") is None
    assert db.value("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'LiteLLM_SpendLogs_pkey'") \
        == 'PRIMARY KEY (request_id, "startTime")'
    indexes = {r["indexname"] for r in db.query(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'LiteLLM_SpendLogs'")}
    assert {"LiteLLM_SpendLogs_api_key_startTime_idx", "LiteLLM_SpendLogs_litellm_call_id_idx",
            "LiteLLM_SpendLogs_startTime_idx", "LiteLLM_SpendLogs_pkey"} <= indexes
    assert db.value("SELECT to_regclass('\"LiteLLM_SpendLogs_pdefault\"')") is not None
    diff = cli("migrate", "diff", "--json")
    assert diff.code == 0, diff
    # writes go on: a proxy-style insert lands in today's partition
    add_logs(db, [("after", 2.0, datetime.utcnow())])
    assert totals(db) == (before[0] + 1, before[1] + 2.0)
    again = cli("logs", "partition", "--json")
    assert again.code == 0 and again.json()["outcome"] == "already partitioned", again


@pytest.fixture
def proxy_roles(db: Database):
    """The proxy's role owning LiteLLM's tables (it ran the migrations) and a read-only role, while
    dbctl connects as a superuser: unique names (roles are the whole server's), dropped after."""
    suffix = uuid.uuid4().hex[:8]
    owner, reader = f"dbctl_proxy_{suffix}", f"dbctl_reader_{suffix}"
    for role in (owner, reader):
        db.execute(f'CREATE ROLE "{role}" LOGIN')
    db.execute(f'GRANT ALL ON SCHEMA public TO "{owner}"')
    for row in db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
        db.execute(f'ALTER TABLE "{row["tablename"]}" OWNER TO "{owner}"')
    db.execute(f'GRANT USAGE ON SCHEMA public TO "{reader}"')
    db.execute(f'GRANT SELECT ON "LiteLLM_SpendLogs" TO "{reader}"')
    yield owner, reader
    for role in (owner, reader):
        db.execute(f'REASSIGN OWNED BY "{role}" TO CURRENT_USER')
        db.execute(f'DROP OWNED BY "{role}"')
        db.execute(f'DROP ROLE "{role}"')


@pytest.mark.parametrize("dbctl_as", ["superuser", "owner"])
def test_the_proxys_role_keeps_owning_and_writing_and_grants_follow(db, proxy_roles, dbctl_as: str) -> None:
    owner, reader = proxy_roles
    add_logs(db, edge_rows())
    url = db.url if dbctl_as == "superuser" else role_url(db.url, owner)  # dbctl with the proxy's own URL
    result = invoke(["--database-url", url, "logs", "partition", "--json"])
    assert result.code == 0 and result.json()["outcome"] == "converted", result
    owners = db.query("""SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
                         WHERE c.relname LIKE 'LiteLLM\\_SpendLogs%' AND c.relkind IN ('r', 'p')""")
    assert len(owners) > 10 and {r["owner"] for r in owners} == {owner}, owners  # the table and each partition
    assert db.value(f"SELECT has_table_privilege('{reader}', '\"LiteLLM_SpendLogs\"', 'SELECT')") is True
    assert db.value(f"SELECT has_table_privilege('{reader}', '\"LiteLLM_SpendLogs\"', 'INSERT')") is False
    as_owner = Database(role_url(db.url, owner))
    add_logs(as_owner, [("after", 2.0, datetime.utcnow())])  # the proxy writes on, into today's partition
    as_reader = Database(role_url(db.url, reader))
    assert as_reader.value("""SELECT spend FROM "LiteLLM_SpendLogs" WHERE request_id = 'after'""") == 2.0
    assert db.value("SELECT count(*) FROM pg_proc WHERE proname LIKE 'dbctl%'") == 0  # the mirror trigger is gone


def role_url(url: str, role: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, f"{role}@{parts.netloc.rsplit('@', 1)[-1]}", parts.path, parts.query, ""))


def test_dry_run_changes_nothing(cli, db) -> None:
    add_logs(db, edge_rows())
    catalog = "SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1"
    before = db.query(catalog)
    result = cli("logs", "partition", "--dry-run", "--json")
    assert result.code == 3, result
    out = result.json()
    assert out["steps"][:3] == ["prepare", "trigger", "copy"] and "LiteLLM_SpendLogs_pdefault" in out["partitions_created"]
    assert out["rows_estimate"] in (None, 30)  # never analyzed: unknown, not 0 (autovacuum may have analyzed it)
    db.execute('ANALYZE "LiteLLM_SpendLogs"')
    assert "~30 rows to copy" in cli("logs", "partition", "--dry-run").stdout
    assert db.query(catalog) == before and kind(db) == "r"
    assert cli("logs", "partition", "--interval", "year").code == 2
    assert cli("logs", "partition", "--premake", "-1").code == 2
    assert cli("logs", "partition", "-q").code == 0
    assert cli("logs", "partition", "--dry-run").code == 0  # partitioned, premade: nothing to do


def test_the_copy_is_paced_as_prune_is_and_the_old_batch_flag_still_works(cli, db) -> None:
    """--max-rate bounds the copied rows per second (the 20 rows before the last batch of 10, at 20 rows/s,
    take 1 s at least); --batch-rows is --batch-size's old spelling, with one deprecation line."""
    rows = edge_rows()
    add_logs(db, rows)
    started = time.monotonic()
    result = cli("logs", "partition", "--batch-rows", "10", "--max-rate", "20", "--pause", "0s", "--json")
    assert result.code == 0, result
    assert result.json()["batches"] == 3 and result.json()["rows_copied"] == len(rows)
    assert time.monotonic() - started >= 1.0
    assert "--batch-rows is deprecated; use --batch-size" in result.stderr
    for bad in (["--max-rate", "0"], ["--max-rate", "nan"], ["--pause", "-1s"], ["--batch-size", "0"]):
        refused = cli("logs", "partition", "--dry-run", *bad)
        assert refused.code == 2 and refused.stderr.count("\n") <= 2, (bad, refused)


def test_views_follow_and_keep_old_and_month_interval(cli, db) -> None:
    add_logs(db, edge_rows())
    db.execute('CREATE VIEW "MonthlyGlobalSpend" AS SELECT date_trunc(\'day\', "startTime") AS date, '
               'sum(spend) AS spend FROM "LiteLLM_SpendLogs" GROUP BY 1')
    definition = db.value("SELECT pg_get_viewdef('\"MonthlyGlobalSpend\"'::regclass)")
    result = cli("logs", "partition", "--interval", "month", "--keep-old", "--premake", "2", "--json")
    assert result.code == 0, result
    assert result.json()["old_table"] == "LiteLLM_SpendLogs_old"
    assert all(re.fullmatch(r"LiteLLM_SpendLogs_p\d{6}01|LiteLLM_SpendLogs_pdefault", n)
               for n in result.json()["partitions_created"])
    add_logs(db, [("new", 7.0, datetime.utcnow())])
    assert db.value('SELECT sum(spend) FROM "MonthlyGlobalSpend"') == totals(db)[1]
    assert db.value("SELECT pg_get_viewdef('\"MonthlyGlobalSpend\"'::regclass)") == definition
    assert db.value('SELECT count(*) FROM "LiteLLM_SpendLogs_old"') == totals(db)[0] - 1


@pytest.mark.slow
def test_a_concurrent_writer_loses_nothing_and_never_waits_a_second(cli, db) -> None:
    start = datetime.combine(date.today() - timedelta(days=20), datetime.min.time())
    rows = [(f"old{i}", 0.5, start + timedelta(minutes=7 * i)) for i in range(3000)]
    add_logs(db, rows)
    stop = threading.Event()
    waits: list[float] = []
    written: list[str] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with psycopg.connect(db.url, autocommit=True) as conn:
                n = 0
                while not stop.is_set():
                    n += 1
                    started = time.monotonic()
                    now = datetime.utcnow()
                    conn.execute(INSERT, (f"w{n}", 0.25, now, now, f"w{n}"))
                    waits.append(time.monotonic() - started)  # the proxy's inserts: the target
                    if n % 10 == 0:  # LiteLLM's retention deleting old rows, and an update (scrub)
                        conn.execute('DELETE FROM "LiteLLM_SpendLogs" WHERE request_id = %s', (f"old{n}",))
                        conn.execute('UPDATE "LiteLLM_SpendLogs" SET spend = 1.0 WHERE request_id = %s',
                                     (f"old{n + 1}",))
                    written.append(f"w{n}")
                    time.sleep(0.002)
        except BaseException as exc:  # the assertion below reports it
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.2)
        result = cli("logs", "partition", "--batch-size", "200", "--json")
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
    assert result.code == 0 and not errors, (result, errors)
    assert kind(db) == "p"
    deleted = {f"old{n}" for n in range(10, len(written) + 1, 10)}
    updated = {f"old{n + 1}" for n in range(10, len(written) + 1, 10)} - deleted
    expected = {r[0] for r in rows if r[0] not in deleted} | set(written)
    present = {r["request_id"] for r in db.query('SELECT request_id FROM "LiteLLM_SpendLogs"')}
    assert present == expected
    spend = 0.5 * (len([r for r in rows if r[0] in expected]) - len(updated & expected)) + \
        1.0 * len(updated & expected) + 0.25 * len(written)
    assert abs(totals(db)[1] - spend) < 1e-6
    assert len(written) > 20 and max(waits) <= 1.0, max(waits)


def test_killed_midway_the_proxy_still_writes_and_the_next_run_resumes(cli, db) -> None:
    rows = edge_rows()
    add_logs(db, rows)
    killed_at("PARTITION_BATCH", ["--database-url", db.url, "logs", "partition", "--batch-size", "9"])
    state = db.query("SELECT phase, batches, rows_copied FROM dbctl_logs_partition")[0]
    assert state["phase"] == "copying" and state["batches"] == 1 and state["rows_copied"] == 9
    assert kind(db) == "r"
    add_logs(db, [("meanwhile", 3.0, datetime.utcnow())])  # the plain table takes writes, mirrored
    db.execute('DELETE FROM "LiteLLM_SpendLogs" WHERE request_id = %s', (rows[0][0],))  # a copied row goes
    before = totals(db)
    dry = cli("logs", "partition", "--dry-run", "--json")
    assert dry.code == 3 and dry.json()["steps"][0] == "copy", dry
    result = cli("logs", "partition", "--json")
    assert result.code == 0 and result.json()["outcome"] == "resumed", result
    assert result.json()["rows_copied"] == len(rows) - 9  # the row added meanwhile was mirrored, not copied
    assert kind(db) == "p" and totals(db) == before


def test_killed_after_the_swap_the_next_run_drops_the_old_table(cli, db) -> None:
    add_logs(db, edge_rows())
    before = totals(db)
    killed_at("PARTITION_SWAPPED", ["--database-url", db.url, "logs", "partition"])
    assert kind(db) == "p" and db.value("SELECT to_regclass('\"LiteLLM_SpendLogs_old\"')") is not None
    add_logs(db, [("meanwhile", 3.0, datetime.utcnow())])
    result = cli("logs", "partition", "--json")
    assert result.code == 0 and result.json()["steps"][:2] == ["drop", "cleanup"], result
    assert db.value("SELECT to_regclass('\"LiteLLM_SpendLogs_old\"')") is None
    assert totals(db) == (before[0] + 1, before[1] + 3.0)
    assert cli("migrate", "diff").code == 0


# -- LiteLLM's partition manager on the result (its SQL, copied as facts from 1.109.1) --------------

IS_PARTITIONED = """
    SELECT EXISTS (
        SELECT 1
        FROM pg_partitioned_table pt
        JOIN pg_class c ON c.oid = pt.partrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = %s
          AND n.nspname = current_schema()
    ) AS partitioned
"""
LIST_PARTITIONS = """
    SELECT c.relname AS name,
           pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    JOIN pg_namespace n ON n.oid = p.relnamespace
    WHERE p.relname = %s
      AND n.nspname = current_schema()
"""
_BOUND_UPPER_RE = re.compile(r"TO \('([^']+)'\)")


def parse_partition_upper_bound(bound_expr: str) -> datetime | None:
    if "DEFAULT" in bound_expr.upper():
        return None
    match = _BOUND_UPPER_RE.search(bound_expr)
    if match is None:
        return None
    try:
        return datetime.fromisoformat(match.group(1))
    except ValueError:
        return None


def test_litellm_partition_manager_sql_works_on_the_result(cli, db) -> None:
    add_logs(db, edge_rows())
    assert cli("logs", "partition", "--premake", "1").code == 0
    with psycopg.connect(db.url, autocommit=True) as conn:
        assert conn.execute(IS_PARTITIONED, ("LiteLLM_SpendLogs",)).fetchone()[0] is True
        partitions = [(name, parse_partition_upper_bound(bound or ""))
                      for name, bound in conn.execute(LIST_PARTITIONS, ("LiteLLM_SpendLogs",)).fetchall()]
        assert ("LiteLLM_SpendLogs_pdefault", None) in partitions
        assert all(upper is not None for name, upper in partitions if name != "LiteLLM_SpendLogs_pdefault")
        # ensure_partitions: today and 7 ahead, CREATE TABLE IF NOT EXISTS ... PARTITION OF
        today = date.today()
        for offset in range(8):
            lower = today + timedelta(days=offset)
            conn.execute(f'CREATE TABLE IF NOT EXISTS "LiteLLM_SpendLogs_p{lower:%Y%m%d}" '
                         f'PARTITION OF "LiteLLM_SpendLogs" '
                         f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{(lower + timedelta(days=1)).isoformat()}')")
        # drop_partitions_older_than: every partition whose upper bound <= the cutoff
        cutoff = datetime.combine(today - timedelta(days=5), datetime.min.time())
        to_drop = [name for name, upper in partitions if upper is not None and upper <= cutoff]
        assert len(to_drop) == 5
        for name in to_drop:
            conn.execute(f'DROP TABLE IF EXISTS "{name}"')
        left = conn.execute('SELECT min("startTime") FROM "LiteLLM_SpendLogs"').fetchone()[0]
        assert left >= cutoff
        today_name = f"LiteLLM_SpendLogs_p{today:%Y%m%d}"
        conn.execute(INSERT, ("proxy", 1.0, datetime.utcnow(), datetime.utcnow(), "proxy"))
        assert conn.execute('SELECT tableoid::regclass::text FROM "LiteLLM_SpendLogs" WHERE request_id = %s',
                            ("proxy",)).fetchone()[0].strip('"') == today_name


# -- LiteLLM 1.109.1's own SpendLogsPartitionManager on the result ----------------------------------

MANAGER = Path(os.environ.get("DBCTL_LITELLM_SOURCE", "/work/ref/l109/litellm")) / \
    "proxy/db/db_transaction_queue/spend_logs_partition_manager.py"


class _Tx:
    """The two calls the manager makes on a Prisma transaction, on a psycopg connection."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def _run(self, query: str, args: tuple[Any, ...]) -> psycopg.Cursor[Any]:
        if args:
            return self.conn.execute(re.sub(r"\$\d+", "%s", query), args)
        return self.conn.execute(query)

    async def execute_raw(self, query: str, *args: Any) -> int:
        return self._run(query, args).rowcount

    async def query_raw(self, query: str, *args: Any) -> list[dict[str, Any]]:
        return self._run(query, args).fetchall()


class _Prisma:
    """`prisma_client.db.tx(timeout=...)`: one psycopg transaction per block, as Prisma's."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.db = self
        self.conn = conn

    @asynccontextmanager
    async def tx(self, timeout: Any = None) -> AsyncIterator[_Tx]:
        with self.conn.transaction():
            yield _Tx(self.conn)


def _load_manager(monkeypatch: pytest.MonkeyPatch) -> Any:
    """LiteLLM's module from its source, its three imports from the rest of litellm stubbed (the whole
    litellm stack is not installed here, and CI must not need it)."""
    if not MANAGER.is_file():
        pytest.skip(f"LiteLLM's source is not at {MANAGER}")

    @asynccontextmanager
    async def db_span(*_: Any) -> AsyncIterator[None]:
        yield

    stubs = {"litellm": {}, "litellm._logging": {"verbose_proxy_logger": logging.getLogger("litellm")},
             "litellm.constants": {"SPEND_LOG_PARTITION_INTERVAL": "day", "SPEND_LOG_PARTITION_PRECREATE_AHEAD": 7},
             "litellm.proxy": {}, "litellm.proxy.db": {}, "litellm.proxy.db.db_span": {"db_span": db_span}}
    for name, attributes in stubs.items():
        module = types.ModuleType(name)
        module.__dict__.update(attributes)
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location("litellm_spend_logs_partition_manager", MANAGER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_litellm_partition_manager_itself_precreates_and_drops_on_the_result(cli, db, monkeypatch) -> None:
    manager_module = _load_manager(monkeypatch)
    add_logs(db, edge_rows())
    assert cli("logs", "partition", "--premake", "0").code == 0
    manager = manager_module.SpendLogsPartitionManager("day", 7)
    budget = lambda: 5000  # noqa: E731  (the manager's RemainingTimeoutMs)
    with psycopg.connect(db.url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        prisma = _Prisma(conn)
        assert asyncio.run(manager.is_partitioned(prisma, budget)) is True
        ensured = asyncio.run(manager.ensure_partitions(prisma, budget))
        today = datetime.now(timezone.utc).date()
        assert ensured == [plan.partition_name(today + timedelta(days=n)) for n in range(8)]
        assert all(db.value("SELECT to_regclass(%s)", (f'"{name}"',)) for name in ensured)
        cutoff = datetime.now(timezone.utc) - timedelta(days=5)
        dropped = asyncio.run(manager.drop_partitions_older_than(prisma, cutoff, budget))
        assert len(dropped) == 5 and plan.DEFAULT_PARTITION not in dropped
        assert all(db.value("SELECT to_regclass(%s)", (f'"{name}"',)) is None for name in dropped)
    oldest = db.value('SELECT min("startTime") FROM "LiteLLM_SpendLogs"')
    assert oldest >= cutoff.replace(tzinfo=None) - timedelta(days=1)
    assert cli("migrate", "diff").code == 0


def test_a_reader_holding_the_table_makes_the_swap_give_up_with_exit_5_and_writes_go_on(cli, db) -> None:
    add_logs(db, edge_rows())
    with psycopg.connect(db.url) as reader:  # a long report: ACCESS SHARE until it ends
        reader.execute('SELECT count(*) FROM "LiteLLM_SpendLogs"')
        waits: list[float] = []
        stop = threading.Event()

        def writer() -> None:
            with psycopg.connect(db.url, autocommit=True) as conn:
                n = 0
                while not stop.is_set():
                    n += 1
                    started = time.monotonic()
                    now = datetime.utcnow()
                    conn.execute(INSERT, (f"r{n}", 1.0, now, now, f"r{n}"))
                    waits.append(time.monotonic() - started)
                    time.sleep(0.01)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            result = cli("logs", "partition", "--lock-timeout", "3s")
        finally:
            stop.set()
            thread.join()
        assert result.code == 5, result
        assert "swap" in result.stderr
        assert db.value("SELECT phase FROM dbctl_logs_partition") == "copied" and kind(db) == "r"
        assert max(waits) <= 1.0, max(waits)
    before = totals(db)
    again = cli("logs", "partition", "--json")
    assert again.code == 0 and again.json()["outcome"] == "resumed", again
    assert kind(db) == "p" and totals(db) == before


def test_another_logs_run_holding_the_lock_is_exit_5(cli, db) -> None:
    from litellm_dbctl.db import database

    with psycopg.connect(db.url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (database.family_key("logs"),))
        result = cli("logs", "partition", "--lock-timeout", "1s")
    assert result.code == 5, result
    assert kind(db) == "r"
