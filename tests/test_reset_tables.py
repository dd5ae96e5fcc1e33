"""dbctl's budget durations against each LiteLLM release's own answers (tests/data/reset_tables.json,
written by tests/data/gen_reset_tables.py from the 1.109.1 and 1.110.2 wheels' duration functions).

Every case is (duration, now, timezone, budget_reset_time) -> (accepted at intake, seconds, next
reset); dbctl must give the same under `ResetPolicy(release=...)`, for every spelling either release
accepts, at month and year ends and on DST days.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from litellm_dbctl.common import durations
from litellm_dbctl.common.durations import InvalidDuration, ResetPolicy
from litellm_dbctl.common.errors import InvalidInput

TABLES = Path(__file__).parent / "data" / "reset_tables.json"


@cache
def tables() -> dict[str, Any]:
    return json.loads(TABLES.read_text(encoding="utf-8"))["releases"]


def dbctl_answer(release: str, duration: str, when: str, zone: str, reset_time: str) -> list[Any]:
    """(accepted, seconds, next reset) as dbctl computes them; None where it refuses."""
    now = datetime.fromisoformat(when).replace(tzinfo=timezone.utc)
    policy = ResetPolicy(zone, reset_time, release)
    try:
        durations.validate(duration, policy, now)
        accepted = True
    except InvalidDuration:
        accepted = False
    try:
        seconds: int | None = durations.duration_seconds(duration, now)
    except InvalidDuration:
        seconds = None
    try:
        reset: datetime | None = durations.next_reset(duration, now, policy)
    except InvalidDuration:
        reset = None
    return [accepted, seconds, reset]


@pytest.mark.parametrize("release", ["1.109", "1.110"])
def test_dbctl_resets_as_the_release_does(release: str) -> None:
    wrong = []
    cases = tables()[release]["cases"]
    for duration, when, zone, reset_time, accepted, seconds, reset in cases:
        expected = [accepted, seconds, datetime.fromisoformat(reset) if reset else None]
        got = dbctl_answer(release, duration, when, zone, reset_time)
        if got != expected:  # aware datetimes compare as instants
            wrong.append(f"{duration!r} at {when} {zone} {reset_time}: LiteLLM {expected}, dbctl {got}")
    assert not wrong, f"{len(wrong)} of {len(cases)} cases differ:\n" + "\n".join(wrong[:20])


def test_the_window_before_each_1_110_reset_is_found() -> None:
    """budget sync --repair-spend finds a window's start by walking the grid back (previous_boundary):
    under 1.110's alignment every accepted spelling's reset is on a grid it can walk (`100000h` resets
    daily with a length of 11 years: past MAX_WALK, as under 1.109)."""
    lost = []
    for duration, when, zone, reset_time, accepted, _, reset in tables()["1.110"]["cases"]:
        if not accepted or duration == "100000h":
            continue
        policy = ResetPolicy(zone, reset_time, "1.110")
        boundary = durations.previous_boundary(duration, datetime.fromisoformat(reset), policy)
        if boundary is None or durations.next_reset(duration, boundary, policy) != datetime.fromisoformat(reset):
            lost.append(f"{duration!r} at {when} {zone} {reset_time}: {boundary}")
    assert not lost, "\n".join(lost[:20])


def test_the_tables_cover_both_releases_and_where_they_differ() -> None:
    """The fixture is what the brief says it is: both wheels, each spelling of each unit, and the
    spellings whose alignment 1.110 changed really differ there."""
    releases = tables()
    assert {r["version"] for r in releases.values()} == {"1.109.1", "1.110.2"}
    spelled = {row[0] for row in releases["1.109"]["cases"]}
    for unit in ("s", "sec", "second", "seconds", "m", "min", "minute", "minutes", "h", "hr", "hour", "hours",
                 "d", "day", "days", "w", "wk", "week", "weeks", "mo", "month", "months"):
        assert f"1{unit}" in spelled
    assert {"hourly", "daily", "weekly", "monthly"} <= spelled
    old = {tuple(r[:4]): r[6] for r in releases["1.109"]["cases"]}
    new = {tuple(r[:4]): r[6] for r in releases["1.110"]["cases"]}
    case = ("1month", "2026-02-28T12:34:56", "UTC", "00:00")
    assert (old[case], new[case]) == ("2026-03-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00")
    case = ("1month", "2026-03-02T00:00:00", "UTC", "09:30")
    assert (old[case], new[case]) == ("2026-03-03T00:00:00+00:00", "2026-04-01T09:30:00+00:00")
    case = ("10min", "2026-02-28T12:34:56", "UTC", "00:00")
    assert (old[case], new[case]) == ("2026-03-01T00:00:00+00:00", "2026-02-28T12:40:00+00:00")


@pytest.mark.parametrize(("duration", "old", "new"), [
    ("1month", "2026-03-11T00:00", "2026-04-01T00:00"),
    ("30days", "2026-03-11T00:00", "2026-04-01T00:00"),
    ("1wk", "2026-03-11T00:00", "2026-03-16T00:00"),
    ("1hr", "2026-03-11T00:00", "2026-03-10T15:00"),
    ("10min", "2026-03-11T00:00", "2026-03-10T14:30"),
    ("2months", "2026-03-11T00:00", "2026-03-11T00:00"),
    ("1d", "2026-03-11T00:00", "2026-03-11T00:00"),
])
def test_the_release_line_chooses_the_alignment(duration: str, old: str, new: str) -> None:
    now = datetime(2026, 3, 10, 14, 25, tzinfo=timezone.utc)  # a Tuesday
    for release, expected in (("1.109", old), ("1.110", new)):
        got = durations.next_reset(duration, now, ResetPolicy(release=release))
        assert got == datetime.fromisoformat(expected).replace(tzinfo=timezone.utc), release


def test_the_default_release_is_1_109() -> None:
    assert ResetPolicy().release == durations.DEFAULT_RELEASE == "1.109"


@pytest.mark.parametrize("release", ["", "1", "1.x", "v1.110", "1.110.2", "1.١١٠"])
def test_a_release_that_is_not_a_release_line_is_refused(release: str) -> None:
    with pytest.raises(InvalidInput, match="invalid LiteLLM release"):
        ResetPolicy(release=release)


# -- every command that computes a reset follows the release it is given ------------------------------
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=timezone.utc)  # a Wednesday
MONDAY, FIRST, MIDNIGHT = datetime(2026, 6, 15), datetime(2026, 7, 1), datetime(2026, 6, 11)


def test_budget_sync_resets_by_the_release_line(db) -> None:
    import fix_budget as fx

    from litellm_dbctl.budget.sync import SyncOptions, sync
    from litellm_dbctl.db.config import Target

    for release, week, month in (("1.109", MIDNIGHT, MIDNIGHT), ("1.110", MONDAY, FIRST)):
        fx.key(db, f"k-{release}", spend=5.0, budget_duration="1wk", budget_reset_at=fx.PAST)
        fx.team(db, f"t-{release}", spend=5.0, budget_duration="1month", budget_reset_at=fx.PAST)
        # the release is the database's (here named, as --litellm-version names it), not the options'
        result = sync(Target(db.url, "test", litellm_version=release), SyncOptions(now=NOW, policy=ResetPolicy()))
        assert not result.skipped, result.skipped
        assert fx.reset_at(db, "LiteLLM_VerificationToken", "token", f"k-{release}") == week
        assert fx.reset_at(db, "LiteLLM_TeamTable", "team_id", f"t-{release}") == month


def test_provisioning_and_key_create_set_budget_reset_at_by_the_release_line(db) -> None:
    from litellm_dbctl.db.config import Target
    from litellm_dbctl.keys import manage
    from litellm_dbctl.provision import apply, plan, specs

    for release, hour, month in (("1.109", MIDNIGHT, MIDNIGHT), ("1.110", datetime(2026, 6, 10, 13), FIRST)):
        target = Target(db.url, "test", litellm_version=release)  # the database's release, as named
        options = plan.options()
        spec = specs.from_records([("teams", {"team_id": f"t-{release}", "budget_duration": "30days"}),
                                   ("users", {"user_id": f"u-{release}"})], "test")
        apply.run(target, spec, options=options, now=NOW)
        created = manage.create(target, manage.NewKey(user_id=f"u-{release}", budget_duration="1hr"),
                                options=options, now=NOW)
        assert created.row["budget_reset_at"] == hour
        assert db.value("""SELECT budget_reset_at FROM "LiteLLM_TeamTable" WHERE team_id = %s""",
                        (f"t-{release}",)) == month


def test_the_release_a_database_belongs_to_chooses_its_reset_rules(cli, db) -> None:
    """Detected, not assumed: a ledger holding 1.110's outbox migration resets `1wk` on Monday,
    through the CLI, with no option naming the release."""
    import fix_budget as fx

    fx.key(db, "k", spend=5.0, budget_duration="1wk", budget_reset_at=fx.PAST)
    assert cli("budget", "sync", "--now", NOW.isoformat(), "-q").code == 0
    assert fx.reset_at(db, "LiteLLM_VerificationToken", "token", "k") == MIDNIGHT  # 1.109: next midnight
    db.execute("""INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at,
                  applied_steps_count) VALUES ('x', 'x', now(), '20261103000000_add_spend_log_delivery', now(), 1)""")
    db.execute("""UPDATE "LiteLLM_VerificationToken" SET budget_reset_at = %s WHERE token = 'k'""", (fx.PAST,))
    assert cli("budget", "sync", "--now", NOW.isoformat(), "-q").code == 0
    assert fx.reset_at(db, "LiteLLM_VerificationToken", "token", "k") == MONDAY  # 1.110: the week's start
