"""LiteLLM's retention respected by `dbctl daily check|reconcile`: days its cleanup job pruned
(maximum_spend_logs_retention_period: every table; maximum_daily_tag_spend_retention_period: tag
rows) are reported `pruned` and left alone, with the settings from --proxy-config or LiteLLM_Config."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import fix_daily
import psycopg
import pytest
from fix_daily import TABLES, insert_logs
from hypothesis import given
from hypothesis import strategies as st
from psycopg.rows import dict_row

from litellm_dbctl.daily import retention, tables
from litellm_dbctl.daily.retention import SPEND_LOGS, TAG, Horizon, Retention, Setting

# -- the rules, without a database ----------------------------------------------------------------

NOON = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)


def horizon(now: datetime = NOON, **values: Any) -> Horizon:
    names = {"spend": SPEND_LOGS, "tag": TAG}
    return Retention({names[k]: Setting(names[k], v, "test") for k, v in values.items()}).horizon(now)


def test_tag_rows_go_before_the_horizon_day_which_is_kept() -> None:
    cut = horizon(tag="7d")
    assert cut == Horizon(tag=date(2026, 3, 3))
    assert cut.pruned(date(2026, 3, 2), tables.TABLE_NAMES) == ("tag",)
    assert cut.pruned(date(2026, 3, 3), tables.TABLE_NAMES) == ()
    assert cut.pruned(date(2026, 3, 2), ("user", "team")) == ()


def test_spend_log_retention_prunes_every_table_on_each_day_that_lost_logs() -> None:
    cut = horizon(spend="7d")  # logs before 2026-03-03 12:00 are deleted: that day lost half of them
    assert cut.spend_logs == date(2026, 3, 4)
    assert cut.pruned(date(2026, 3, 3), tables.TABLE_NAMES) == tables.TABLE_NAMES
    assert cut.pruned(date(2026, 3, 4), tables.TABLE_NAMES) == ()
    at_midnight = horizon(datetime(2026, 3, 10, tzinfo=timezone.utc), spend="7d")
    assert at_midnight.spend_logs == date(2026, 3, 3)  # the cut falls on a day boundary: 03-03 is whole
    assert horizon(spend="0d").spend_logs == date(2026, 3, 11)  # every log before now


@pytest.mark.parametrize(("value", "days"), [
    (3, 3), ("3d", 3), ("72h", 3), ("1w", 7), ("2w", 14), ("30days", 30), ("daily", 1), (" Weekly ", 7),
    ("1mo", 31),  # calendar months counted forward from now: 03-10 -> 04-10
    ("1month", 31), ("259200s", 3), ("4320m", 3), ("4320min", 3),
])
def test_litellm_duration_grammar(value: Any, days: int) -> None:
    assert horizon(tag=value) == Horizon(tag=(NOON - timedelta(days=days)).date())


@pytest.mark.parametrize("value", ["7D", " 7d", "30", "d7", "", True, "os.environ/X"])
def test_a_value_litellm_rejects_prunes_nothing_and_is_named(value: Any) -> None:
    settings = Retention({TAG: Setting(TAG, value, "config.yaml:3")})
    assert settings.horizon(NOON) == retention.NO_HORIZON
    assert settings.problems(NOON) == [f"config.yaml:3: general_settings.{TAG}: {value!r} is not a duration "
                                       "LiteLLM reads (e.g. 30d, 12h, 2w, 1mo): its cleanup job prunes nothing by it"]


def test_a_value_that_crashes_litellms_run_prunes_nothing_at_all() -> None:
    assert horizon(spend=7.5, tag="7d") == retention.NO_HORIZON  # duration_in_seconds(7.5) raises TypeError
    assert horizon(spend="99999999999d", tag="7d") == retention.NO_HORIZON  # OverflowError before the tags
    assert horizon(spend="7d", tag="99999999999d") == Horizon(spend_logs=date(2026, 3, 4))  # logs went first


@given(now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)),
       seconds=st.integers(0, 400 * 86400), offset=st.integers(-3, 3))
def test_a_day_is_pruned_exactly_when_litellm_deleted_some_of_its_logs(now: datetime, seconds: int, offset: int) -> None:
    cutoff = now - timedelta(seconds=seconds)  # LiteLLM: DELETE ... WHERE "startTime" < cutoff
    day = cutoff.date() + timedelta(days=offset)
    lost_logs = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) < cutoff
    assert bool(horizon(now, spend=f"{seconds}s").pruned(day, ("user",))) == lost_logs


# -- through the CLI ------------------------------------------------------------------------------


@pytest.fixture
def conn(db) -> Any:
    with psycopg.connect(db.url, autocommit=True, row_factory=dict_row) as connection:
        yield connection


def snapshot(conn: Any, day: date) -> dict[str, list[tuple[Any, ...]]]:
    return {name: [tuple(r.items()) for r in conn.execute(
        f'SELECT * FROM "{table}" WHERE date = %(day)s ORDER BY id', {"day": day.isoformat()}).fetchall()]
        for name, (table, _) in TABLES.items()}


def pruned_world(cli: Any, conn: Any) -> tuple[date, date, date]:
    """Three days of matching daily rows, then what LiteLLM's cleanup did and one drift:
    OLD (20 days ago) lost half its spend logs; MID (10 days ago) lost its tag rows; NEW (3 days
    ago, inside both retentions) lost a user row."""
    today = tables.utc_today()
    old, mid, new = (today - timedelta(days=n) for n in (20, 10, 3))
    for seed, day in enumerate((old, mid, new)):
        insert_logs(conn, fix_daily.plain_logs(seed, datetime(day.year, day.month, day.day), 1, 40, prefix=f"d{seed}"))
    assert cli("daily", "reconcile", "--since", old.isoformat(), "--until", new.isoformat()).code == 0
    conn.execute("""DELETE FROM "LiteLLM_SpendLogs" WHERE request_id LIKE 'd0-%%' AND right(request_id, 1) IN ('1', '3', '5')""")
    conn.execute("""DELETE FROM "LiteLLM_DailyTagSpend" WHERE date = %s""", [mid.isoformat()])
    conn.execute("""DELETE FROM "LiteLLM_DailyUserSpend" WHERE id = (SELECT min(id) FROM "LiteLLM_DailyUserSpend"
                    WHERE date = %s)""", [new.isoformat()])
    return old, mid, new


def write_config(tmp_path: Path, general: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(f"model_list: []\ngeneral_settings:\n{general}")
    return str(path)


def store_general_settings(conn: Any, values: dict[str, Any]) -> None:
    conn.execute("""INSERT INTO "LiteLLM_Config" (param_name, param_value) VALUES ('general_settings', %s)""",
                 [json.dumps(values)])


@pytest.mark.slow
@pytest.mark.parametrize("origin", ["proxy-config", "LiteLLM_Config"])
def test_pruned_days_are_reported_and_left_alone(cli, conn, tmp_path, origin: str) -> None:
    old, mid, new = pruned_world(cli, conn)
    options: list[str] = []
    if origin == "proxy-config":
        config = write_config(tmp_path, f"  {SPEND_LOGS}: 15d\n  {TAG}: 7\n")
        options = ["--proxy-config", config]
    else:
        store_general_settings(conn, {SPEND_LOGS: "2w", TAG: "1w"})
    before = {day: snapshot(conn, day) for day in (old, mid)}

    pruned_only = cli("daily", "check", "--since", old.isoformat(), "--until", mid.isoformat(), "--json", *options)
    assert pruned_only.code == 0, pruned_only
    states = {(d["date"], d["table"]): d["state"] for d in pruned_only.json()["days"]}
    assert all(states[old.isoformat(), name] == "pruned" for name in tables.TABLE_NAMES)
    assert [states[mid.isoformat(), name] for name in tables.TABLE_NAMES] == ["match"] * 5 + ["pruned"]
    assert set(states.values()) == {"pruned", "match"}
    assert pruned_only.json()["totals"]["day_tables_pruned"] == list(states.values()).count("pruned")
    cut = pruned_only.json()["retention"]
    assert cut[TAG]["first_kept_day"] == (tables.utc_today() - timedelta(days=7)).isoformat()
    assert cut[SPEND_LOGS]["source"] == (f"{config}:3" if origin == "proxy-config" else "LiteLLM_Config")

    span = ["--since", old.isoformat(), "--until", new.isoformat(), *options]
    drifted = cli("daily", "check", *span, "--json")
    assert drifted.code == 3, drifted  # the user row missing on NEW is drift
    states = {(d["date"], d["table"]): d["state"] for d in drifted.json()["days"]}
    assert [states[new.isoformat(), name] for name in tables.TABLE_NAMES] == ["drift"] + ["match"] * 5
    shown = cli("daily", "check", "--since", mid.isoformat(), "--until", mid.isoformat(), "-v", *options)
    assert shown.code == 0, shown
    assert any(line.split()[:3] == [mid.isoformat(), "tag", "pruned"] for line in shown.stdout.splitlines())
    assert f"1 day-table(s) pruned by LiteLLM's retention, not checked: tag {mid}..{mid}" in shown.stderr

    repaired = cli("daily", "reconcile", *span, "--prune-orphans", "--json")
    assert repaired.code == 0, repaired
    payload = repaired.json()
    assert payload["totals"]["inserted"] == 1 and payload["totals"]["updated"] == 0
    assert {(r["date"], r["table"]) for r in payload["retention_pruned"]} == {
        k for k, v in states.items() if v == "pruned"}
    assert {day: snapshot(conn, day) for day in (old, mid)} == before
    assert cli("daily", "check", *span).code == 0


@pytest.mark.slow
def test_without_retention_reconcile_rebuilds_as_before(cli, conn, tmp_path) -> None:
    old, mid, _new = pruned_world(cli, conn)
    store_general_settings(conn, {SPEND_LOGS: "15d", TAG: "7d"})  # a proxy without store_model_in_db ignores it
    config = write_config(tmp_path, "  master_key: os.environ/MASTER\n")
    span = ["--since", old.isoformat(), "--until", mid.isoformat()]
    checked = cli("daily", "check", *span, "--json", "--proxy-config", config)
    assert checked.code == 3 and checked.json()["retention"] == {}, checked
    assert {d["state"] for d in checked.json()["days"]} == {"drift", "match"}
    before = snapshot(conn, old)
    assert cli("daily", "reconcile", *span, "--proxy-config", config).code == 0
    assert snapshot(conn, old) != before
    assert conn.execute("""SELECT count(*) AS n FROM "LiteLLM_DailyTagSpend" WHERE date = %s""",
                        [mid.isoformat()]).fetchone()["n"] > 0


def test_settings_resolve_as_the_proxy_resolves_them(cli, conn, tmp_path) -> None:
    store_general_settings(conn, {TAG: "7d", SPEND_LOGS: None, "store_model_in_db": "True"})
    span = ["--since", "today", "--until", "today", "--json"]
    assert cli("daily", "check", *span).json()["retention"][TAG]["source"] == "LiteLLM_Config"
    # the stored store_model_in_db makes the proxy read the copy; a key the file declares, even null, is the file's
    config = write_config(tmp_path, f"  {TAG}: null\n  {SPEND_LOGS}: 30d\n")
    described = cli("daily", "check", *span, "--proxy-config", config).json()["retention"]
    assert set(described) == {SPEND_LOGS} and described[SPEND_LOGS]["value"] == "30d"
    odd = write_config(tmp_path, f"  {TAG}: 7D\n  maximum_spend_logs_size: 10GB\n")
    warned = cli("daily", "check", *span, "--proxy-config", odd)
    assert warned.code == 0 and f"{odd}:3: general_settings.{TAG}: '7D' is not a duration" in warned.stderr
    assert "maximum_spend_logs_size is set" in warned.stderr
    misplaced = tmp_path / "misplaced.yaml"
    misplaced.write_text(f"litellm_settings:\n  {TAG}: 7d\n")
    said = cli("daily", "check", *span, "--proxy-config", str(misplaced))
    assert f"{misplaced}:2: litellm_settings.{TAG}: LiteLLM reads it only from general_settings" in said.stderr


def test_a_bad_proxy_config_is_exit_2(cli, tmp_path) -> None:
    missing = cli("daily", "reconcile", "--proxy-config", str(tmp_path / "nope.yaml"))
    assert missing.code == 2 and "--proxy-config" in missing.stderr and "no such file" in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("general_settings: [1]\n")
    refused = cli("daily", "check", "--proxy-config", str(bad))
    assert refused.code == 2 and f"{bad}:1: general_settings: expected a mapping" in refused.stderr
