"""`dbctl budget sync --repair-spend`: counters recomputed from the spend logs of their window."""

from __future__ import annotations

from datetime import datetime, timedelta

import fix_budget as fx
import pytest
from helpers import Database
from psycopg.types.json import Jsonb

NOW = "2026-06-10T12:00:00Z"  # 1d windows began at 2026-06-10 00:00, 7d windows on Monday 2026-06-08
TOMORROW = datetime(2026, 6, 11)


def genesis(db: Database) -> None:
    """The deployment's first spend log: the logs reach back past every window in the test."""
    fx.spend_log(db, "genesis", datetime(2026, 5, 1), 0.25, api_key="someone-else")


def repair(cli, *args: str):
    return cli("budget", "sync", "--repair-spend", "--now", NOW, "--json", *args)


def logs(db: Database, prefix: str, **who: str) -> None:
    """One log before the window (yesterday), two inside (today): 5 outside, 3.5 inside."""
    fx.spend_log(db, f"{prefix}-old", datetime(2026, 6, 9, 10), 5.0, **who)
    fx.spend_log(db, f"{prefix}-a", datetime(2026, 6, 10, 8), 2.0, **who)
    fx.spend_log(db, f"{prefix}-b", datetime(2026, 6, 10, 9), 1.5, **who)


def test_logs_inside_and_outside_the_window(cli, db: Database) -> None:
    fx.key(db, "k-low", spend=1.0, budget_duration="1d", budget_reset_at=TOMORROW)
    fx.key(db, "k-high", spend=10.0, budget_duration="1d", budget_reset_at=TOMORROW)
    fx.key(db, "k-right", spend=3.5, budget_duration="1d", budget_reset_at=TOMORROW)
    fx.user(db, "u", spend=0.0, budget_duration="7d", budget_reset_at=datetime(2026, 6, 15))
    fx.team(db, "t", spend=99.0, budget_duration="1d", budget_reset_at=TOMORROW)
    fx.tier(db, "tier", budget_duration="1d", budget_reset_at=TOMORROW)
    fx.end_user(db, "eu", spend=0.0, budget_id="tier")
    genesis(db)
    logs(db, "low", api_key="k-low")
    logs(db, "high", api_key="k-high")
    logs(db, "right", api_key="k-right")
    logs(db, "user", user="u")  # all three inside the user's week
    logs(db, "team", team_id="t")
    logs(db, "eu", end_user="eu")

    result = repair(cli)
    assert result.code == 0, result
    payload = result.json()
    repaired = {(c["entity"], c["id"]): c["changes"]["spend"] for c in payload["changes"]}
    assert repaired == {("key", "k-low"): {"old": 1.0, "new": 3.5}, ("key", "k-high"): {"old": 10.0, "new": 3.5},
                        ("user", "u"): {"old": 0.0, "new": 8.5}, ("team", "t"): {"old": 99.0, "new": 3.5},
                        ("end_user", "eu"): {"old": 0.0, "new": 3.5}}
    window = {c["id"]: c["via"] for c in payload["changes"]}
    assert window["k-low"] == "2026-06-10T00:00:00+00:00" and window["u"] == "2026-06-08T00:00:00+00:00"
    assert any("--settle" in w for w in payload["warnings"])
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k-high") == 3.5
    assert fx.spend(db, "LiteLLM_UserTable", "user_id", "u") == 8.5
    assert fx.spend(db, "LiteLLM_EndUserTable", "user_id", "eu") == 3.5

    assert repair(cli, "--check").code == 0  # nothing drifts any more


def test_recent_activity_is_left_alone(cli, db: Database) -> None:
    fx.key(db, "k-logged", spend=1.0, budget_duration="1d", budget_reset_at=TOMORROW)
    fx.key(db, "k-used", spend=1.0, budget_duration="1d", budget_reset_at=TOMORROW,
           last_active=datetime(2026, 6, 10, 11, 59))  # its counter moved, its log is not written yet
    fx.user(db, "owner", spend=1.0, budget_duration="1d", budget_reset_at=TOMORROW)
    fx.key(db, "k-of-owner", user_id="owner", last_active=datetime(2026, 6, 10, 11, 59, 30))
    genesis(db)
    logs(db, "logged", api_key="k-logged")
    fx.spend_log(db, "logged-now", datetime(2026, 6, 10, 11, 58, 30), 0.5, api_key="k-logged")
    logs(db, "used", api_key="k-used")
    logs(db, "owner", user="owner")

    result = repair(cli)
    assert result.code == 0, result
    assert result.json()["changes"] == []
    skipped = {s["id"]: s["reason"] for s in result.json()["skipped"]}
    assert set(skipped) == {"k-logged", "k-used", "owner"}
    assert all("last 2 min" in reason for reason in skipped.values())
    # with a shorter settle period they are repaired
    shorter = repair(cli, "--settle", "0.25")
    assert {c["id"] for c in shorter.json()["changes"]} == {"k-logged", "k-used", "owner"}
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k-logged") == 4.0


def test_all_time_counters_and_pruned_logs(cli, db: Database) -> None:
    fx.key(db, "k-new", spend=0.0, created_at=datetime(2026, 6, 9, 9))  # no duration: all time since creation
    fx.key(db, "k-old", spend=0.0, created_at=datetime(2026, 1, 1))  # created before the oldest log
    fx.key(db, "k-week", spend=0.0, budget_duration="1w", budget_reset_at=datetime(2026, 6, 15))
    fx.key(db, "k-month", spend=0.0, budget_duration="1mo", budget_reset_at=datetime(2026, 7, 1))
    genesis(db)  # 2026-05-01: after k-old's creation
    fx.spend_log(db, "month", datetime(2026, 5, 31, 23), 1.0, api_key="k-month")  # before its window (June)
    logs(db, "new", api_key="k-new")
    logs(db, "old", api_key="k-old")
    logs(db, "week", api_key="k-week")
    result = repair(cli)
    assert result.code == 0, result
    assert {c["id"]: c["changes"]["spend"]["new"] for c in result.json()["changes"]} == {
        "k-new": 8.5, "k-week": 8.5}
    assert {s["id"] for s in result.json()["skipped"]} == {"k-old"}
    assert "before the oldest spend log" in result.json()["skipped"][0]["reason"]
    # the month began June 1 (the 1st, then 1mo back): the May log is outside, nothing drifts
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k-month") == 0


def test_no_spend_logs_no_repair(cli, db: Database) -> None:
    fx.key(db, "k", spend=5.0)
    result = repair(cli)
    assert result.code == 0
    assert result.json()["changes"] == []
    assert any("LiteLLM_SpendLogs is empty" in w for w in result.json()["warnings"])
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k") == 5.0


def test_reset_then_repair_in_one_run(cli, db: Database) -> None:
    """A window reset late (the proxy was down) loses the spend made since its boundary: repair puts it back."""
    fx.key(db, "k", spend=20.0, budget_duration="1d", budget_reset_at=datetime(2026, 6, 10))
    genesis(db)
    logs(db, "k", api_key="k")
    result = repair(cli)
    assert result.code == 0, result
    actions = [(c["action"], c["changes"]["spend"]) for c in result.json()["changes"]]
    assert actions == [("reset", {"old": 20.0, "new": 0.0}), ("repair", {"old": 0.0, "new": 3.5})]
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k") == 3.5


def test_organizations_and_tags_by_their_budget_tier(cli, db: Database) -> None:
    """Orgs count the logs of their organization_id, tags every occurrence in request_tags (LiteLLM's
    tag counter does not de-duplicate), both within their tier's window; no tier: all time."""
    fx.tier(db, "daily", budget_duration="1d", budget_reset_at=TOMORROW)
    fx.tier(db, "forever")
    fx.org(db, "o-daily", "daily", spend=0.0)
    fx.org(db, "o-right", "daily", spend=3.5)
    fx.tag(db, "t-daily", budget_id="daily", spend=100.0)
    fx.tag(db, "t-all", spend=0.0, created_at=datetime(2026, 5, 2))
    fx.tag(db, "t-unused", spend=0.0)
    genesis(db)
    logs(db, "org", organization_id="o-daily")
    logs(db, "right", organization_id="o-right")
    logs(db, "tags", request_tags=Jsonb(["t-daily", "t-all", "t-daily"]))  # t-daily twice
    fx.spend_log(db, "odd", datetime(2026, 6, 10, 7), 4.0, request_tags=Jsonb([1, "t-all"]))  # 1 is no tag
    fx.spend_log(db, "not-a-list", datetime(2026, 6, 10, 7), 9.0, request_tags=Jsonb({"t-all": 1}))

    result = repair(cli)
    assert result.code == 0, result
    repaired = {(c["entity"], c["id"]): c["changes"]["spend"] for c in result.json()["changes"]}
    assert repaired == {("org", "o-daily"): {"old": 0.0, "new": 3.5},
                        ("tag", "t-daily"): {"old": 100.0, "new": 7.0},
                        ("tag", "t-all"): {"old": 0.0, "new": 12.5}}
    assert fx.spend(db, "LiteLLM_OrganizationTable", "organization_id", "o-daily") == 3.5
    assert fx.spend(db, "LiteLLM_TagTable", "tag_name", "t-daily") == 7.0
    assert repair(cli, "--check").code == 0


def _team_30d(db: Database, wrong: str) -> None:
    for team, spend in (("tm", 1.0), (wrong, 0.0)):
        fx.team(db, team, spend=spend, budget_duration="30d", budget_reset_at=datetime(2026, 3, 1))
        fx.spend_log(db, f"{team}-jan", datetime(2026, 1, 30), 5.0, team_id=team)  # the January window
        fx.spend_log(db, f"{team}-feb", datetime(2026, 2, 5), 1.0, team_id=team)


def _user_monthly(duration: str):
    def seed(db: Database, wrong: str) -> None:
        for user, spend in (("um", 8.0), (wrong, 0.0)):
            fx.user(db, user, spend=spend, budget_duration=duration, budget_reset_at=datetime(2026, 4, 1))
            fx.spend_log(db, f"{user}-1st", datetime(2026, 3, 1), 5.0, user=user)  # the window's first moment
            fx.spend_log(db, f"{user}-10th", datetime(2026, 3, 10), 3.0, user=user)
    return seed


def _key_5h(db: Database, wrong: str) -> None:
    for key, spend in (("k5", 1.0), (wrong, 0.0)):
        fx.key(db, key, spend=spend, budget_duration="5h", budget_reset_at=datetime(2026, 3, 11, 5))
        fx.spend_log(db, f"{key}-before", datetime(2026, 3, 11, 0, 30), 5.0, api_key=key)  # the 20:00-01:00 window
        fx.spend_log(db, f"{key}-inside", datetime(2026, 3, 11, 2), 1.0, api_key=key)


@pytest.mark.parametrize(("seed", "now", "entity", "logged", "start"), [
    (_team_30d, "2026-02-10T00:00Z", "team", 1.0, "2026-02-01T00:00:00+00:00"),  # not Jan 30 (30 days back)
    (_user_monthly("monthly"), "2026-03-20T00:00Z", "user", 8.0, "2026-03-01T00:00:00+00:00"),  # not Mar 2
    (_user_monthly("1mo"), "2026-03-31T00:00Z", "user", 8.0, "2026-03-01T00:00:00+00:00"),  # a 30-day month from now
    (_key_5h, "2026-03-11T03:00Z", "key", 1.0, "2026-03-11T01:00:00+00:00"),  # 20:00 + 5h wraps to 01:00, not 00:00
], ids=["30d", "monthly", "1mo", "5h"])
def test_calendar_windows_begin_at_the_boundary_before_budget_reset_at(cli, db: Database, seed, now: str,
                                                                       entity: str, logged: float,
                                                                       start: str) -> None:
    """The audit's cases: a window began at the boundary before budget_reset_at on the duration's grid,
    not the duration's length before it, so a right counter is left alone (it was "repaired" with the
    previous window's spend, or without the window's first day) and a wrong one is repaired to it."""
    fx.spend_log(db, "genesis", datetime(2026, 1, 1), 0.25, api_key="someone-else")
    seed(db, "wrong")
    planned = cli("budget", "sync", "--repair-spend", "--now", now, "--dry-run", "--json")
    assert planned.code == 3, planned
    assert [(c["entity"], c["id"], c["changes"]["spend"], c["via"]) for c in planned.json()["changes"]] == [
        (entity, "wrong", {"old": 0.0, "new": logged}, start)]
    assert planned.json()["skipped"] == []


def test_a_window_off_the_grid_keeps_its_length_and_the_grid_is_the_sync_timezone(cli, db: Database) -> None:
    """budget_reset_at off the duration's grid under --timezone/--reset-time (an older LiteLLM's now +
    duration, or another zone's 1st): the window is the duration's length before it. So a sync must
    be told the proxy's timezone: in UTC, Berlin's August 1 is off the grid and its July loses a day."""
    genesis(db)
    fx.team(db, "legacy", spend=0.0, budget_duration="30d", budget_reset_at=datetime(2026, 8, 5, 13, 37))
    fx.spend_log(db, "legacy-before", datetime(2026, 7, 5), 5.0, team_id="legacy")
    fx.spend_log(db, "legacy-inside", datetime(2026, 7, 7), 1.0, team_id="legacy")  # from July 6 13:37
    fx.key(db, "berlin", spend=6.0, budget_duration="30d", budget_reset_at=datetime(2026, 7, 31, 22))  # Aug 1 CEST
    fx.spend_log(db, "berlin-1st", datetime(2026, 7, 1, 10), 5.0, api_key="berlin")
    fx.spend_log(db, "berlin-10th", datetime(2026, 7, 10), 1.0, api_key="berlin")

    def planned(*args: str) -> dict[str, tuple[float, str]]:
        result = cli("budget", "sync", "--repair-spend", "--now", "2026-07-20T00:00Z", "--dry-run", "--json", *args)
        assert result.code == 3, result
        return {c["id"]: (c["changes"]["spend"]["new"], c["via"]) for c in result.json()["changes"]}

    assert planned("--timezone", "Europe/Berlin") == {"legacy": (1.0, "2026-07-06T13:37:00+00:00")}
    assert planned() == {"legacy": (1.0, "2026-07-06T13:37:00+00:00"), "berlin": (1.0, "2026-07-01T22:00:00+00:00")}


def test_a_window_missing_from_the_computed_ones_is_left_alone(db: Database) -> None:
    """A (duration, budget_reset_at) pair that changed between reading the pairs and the drift gets no
    window: the row is skipped, never compared with all time."""
    from litellm_dbctl.budget import repair as budget_repair
    from litellm_dbctl.db import sqlfiles

    fx.team(db, "moved", spend=0.0, budget_duration="1d", budget_reset_at=TOMORROW)
    genesis(db)
    logs(db, "moved", team_id="moved")
    params = {"durations": ["1d"], "reset_ats": [datetime(2026, 6, 12)], "window_starts": [datetime(2026, 6, 11)],
              "cutoff": datetime(2026, 6, 10, 12), "recent_from": datetime(2026, 6, 9, 12), "min_drift": 0,
              **budget_repair._buffer_params(None, "team")}
    with db.connect() as conn:
        [row] = sqlfiles.run(conn, "budget/drift_teams", params, identifiers={"deliveries": "no_deliveries"})
    assert row["windowed"] is False and row["window_start"] is None
    reason = budget_repair._why_not(row, datetime(2026, 5, 1), timedelta(minutes=2))
    assert reason is not None and "changed while repair read them" in reason


def test_on_the_outbox_logs_not_applied_yet_are_left_out_and_said(outbox_db: Database) -> None:
    """LiteLLM 1.110 writes the log first and the counter later (its worker applies the delivery):
    a repair counting a pending or parked log would add what the worker adds again."""
    from fix_outbox import add_delivery
    from helpers import invoke

    fx.key(outbox_db, "k-right", spend=3.5, budget_duration="1d", budget_reset_at=TOMORROW)
    fx.key(outbox_db, "k-low", spend=1.0, budget_duration="1d", budget_reset_at=TOMORROW)
    fx.tag(outbox_db, "t-right", spend=3.5)
    genesis(outbox_db)
    for who, extra in (("right", {"api_key": "k-right"}), ("low", {"api_key": "k-low"}),
                       ("tag", {"request_tags": Jsonb(["t-right"])})):
        logs(outbox_db, who, **extra)
        outbox_db.execute('DELETE FROM "LiteLLM_SpendLogs" WHERE request_id = %s', (f"{who}-old",))
        for state, spend in (("pending", 1.0), ("parked", 2.0)):
            fx.spend_log(outbox_db, f"{who}-{state}", datetime(2026, 6, 10, 10), spend, **extra)
            add_delivery(outbox_db, f"{who}-{state}", state=state, attempts=5 if state == "parked" else 0)
        fx.spend_log(outbox_db, f"{who}-applied", datetime(2026, 6, 10, 10), 0.0, **extra)
        add_delivery(outbox_db, f"{who}-applied", state="applied")

    result = invoke(["--database-url", outbox_db.url, "budget", "sync", "--repair-spend", "--now", NOW, "--json"])
    assert result.code == 0, result
    repaired = {(c["entity"], c["id"]): c["changes"]["spend"] for c in result.json()["changes"]}
    assert repaired == {("key", "k-low"): {"old": 1.0, "new": 3.5}}  # not 6.5: the worker adds 3.0 later
    assert fx.spend(outbox_db, "LiteLLM_VerificationToken", "token", "k-right") == 3.5
    assert any("left out 6 spend log(s) whose spend-log delivery the proxy has not applied yet "
               "(3 pending, 3 parked)" in w for w in result.json()["warnings"])
