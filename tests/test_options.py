"""One option name per concept, one meaning per short flag, one period grammar, durations with units
(issue #18): the command tree is walked for the rules, and each defect a new user measured is run
through the CLI, old spelling (a deprecation line, same result) and new."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from litellm_dbctl.common import periods, spans
from litellm_dbctl.common.checks import InvalidValue
from litellm_dbctl.common.errors import InvalidInput

# Spellings that name one concept: never two of them visible anywhere (README: Options and periods).
SYNONYMS = [
    {"--timezone", "--tz"},
    {"--budget-reset-time", "--reset-time"},
    {"--team-member-budget", "--member-budget"},
    {"--team-member-budget-duration", "--member-budget-duration"},
    {"--limit", "--max-rows", "--top"},
    {"--unused-since", "--inactive-since"},  # a key's last use (last_active): key list and key prune
    {"--duration", "--expires"},  # a key's lifetime from now: key create and key update
]
RETIRED = {"--tz", "--reset-time", "--member-budget", "--member-budget-duration", "--file"}
OLD_UNITS = {"SECONDS", "MINUTES", "MS", "S"}  # a metavar that says the unit is a bare number's


def leaf_options() -> dict[str, list[object]]:
    """`budget sync` -> its visible options, walking the real Click tree."""
    from litellm_dbctl.cli import LazyGroup, command

    root = command()
    ctx = root.make_context("dbctl", ["--help"], resilient_parsing=True)
    found: dict[str, list[object]] = {}

    def walk(cmd: object, path: str) -> None:
        if isinstance(cmd, LazyGroup):
            children = {name: cmd.get_command(ctx, name) for name in cmd.list_commands(ctx)}
        else:
            children = dict(getattr(cmd, "commands", {}) or {})
        if not children:
            found[path] = [p for p in getattr(cmd, "params", []) if getattr(p, "opts", None)
                           and p.opts[0].startswith("-") and not getattr(p, "hidden", False)]
        for name, child in children.items():
            walk(child, f"{path} {name}".strip())

    walk(root, "")
    return found


def test_each_short_flag_has_one_meaning_across_commands() -> None:
    meanings: dict[str, set[str]] = defaultdict(set)
    for options in leaf_options().values():
        for option in options:
            names = option.opts + option.secondary_opts  # type: ignore[attr-defined]
            long = next((n for n in names if n.startswith("--")), None)
            for short in (n for n in names if not n.startswith("--")):
                meanings[short].add(long or short)
    assert {s: m for s, m in meanings.items() if len(m) > 1} == {}
    assert meanings["-n"] == {"--limit"} and meanings["-t"] == {"--type"}


def test_each_concept_has_one_visible_name_and_every_limit_has_n() -> None:
    everywhere = {name for options in leaf_options().values() for o in options for name in o.opts}  # type: ignore[attr-defined]
    for spellings in SYNONYMS:
        assert len(spellings & everywhere) <= 1, spellings & everywhere
    assert not RETIRED & everywhere
    for path, options in leaf_options().items():
        for option in options:
            opts = option.opts  # type: ignore[attr-defined]
            assert option.metavar not in OLD_UNITS, (path, opts)  # type: ignore[attr-defined]
            if "--limit" in opts:
                assert "-n" in opts, path


def test_every_since_and_until_reads_the_one_grammar() -> None:
    from litellm_dbctl.cli import common

    seen = 0
    for path, options in leaf_options().items():
        for option in options:
            opts, text = option.opts, option.help or ""  # type: ignore[attr-defined]
            if "--since" in opts:
                assert text.startswith(common.SINCE_HELP), path
                seen += 1
            if "--until" in opts:
                assert text.startswith(common.UNTIL_HELP), path
    assert seen >= 7  # spend summary/top/daily/logs/export, daily check/reconcile


# -- durations ------------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(sorted(spans.UNITS)))
def test_a_span_is_a_number_and_a_unit(count: int, unit: str) -> None:
    seconds = count * spans.UNITS[unit]
    if seconds > 10**9:
        with pytest.raises(InvalidValue, match="too long"):
            spans.parse(f"{count}{unit}", former_unit=None, maximum=10**9)
        return
    span = spans.parse(f" {count} {unit}", former_unit=None, maximum=10**9)
    assert (span.seconds, span.bare) == (seconds, False)


def test_a_bare_number_is_read_in_the_former_unit_or_refused() -> None:
    assert spans.parse("30", former_unit="s", maximum=60) == spans.Span(30.0, bare=True, text="30s")
    assert spans.parse("2", former_unit="m", maximum=600).seconds == 120
    for bad in ("30", "nan", "inf", "1e3s", "-1s", "10 seconds", "1mo", ""):
        with pytest.raises(InvalidValue, match="with a unit"):
            spans.parse(bad, former_unit=None, maximum=60)
    assert spans.postgres(0.0001) == "1ms" and spans.postgres(120) == "120s" and spans.postgres(0.25) == "250ms"


def test_lock_timeout_without_a_unit_says_how_it_was_read(cli) -> None:
    old = cli("budget", "sync", "--dry-run", "--lock-timeout", "30")
    assert old.code == 0, old
    assert "dbctl: warning: --lock-timeout 30: a number without a unit is deprecated; read as 30s; write 30s" \
        in old.stderr
    new = cli("budget", "sync", "--dry-run", "--lock-timeout", "30s")
    assert new.code == 0 and "warning" not in new.stderr
    assert cli("budget", "sync", "--dry-run", "--lock-timeout", "2d").code == 2  # at most a day


def test_settle_is_a_duration_in_both_commands(cli) -> None:
    budget = cli("budget", "sync", "--repair-spend", "--dry-run", "--settle", "2", "--json")
    assert budget.code in (0, 3), budget
    assert "--settle 2: a number without a unit is deprecated; read as 2m; write 2m" in budget.stderr
    assert cli("budget", "sync", "--repair-spend", "--dry-run", "--settle", "1h").code in (0, 3)
    assert cli("daily", "reconcile", "--dry-run", "--settle", "1h").code in (0, 3)
    bare = cli("daily", "reconcile", "--dry-run", "--settle", "2")  # it never took a bare number
    assert bare.code == 2 and "--settle: '2' is not a duration with a unit" in bare.stderr


def test_statement_lock_timeout_and_old_transaction_take_units(cli) -> None:
    old = cli("migrate", "deploy", "--dry-run", "--statement-lock-timeout", "10")
    assert old.code == 0, old
    assert "read as 10ms; write 10ms" in old.stderr  # PostgreSQL's unit for a bare number
    assert cli("migrate", "deploy", "--dry-run", "--statement-lock-timeout", "2m").code == 0
    doctor = cli("db", "doctor", "--old-transaction", "300", "--json")
    assert "read as 300s; write 300s" in doctor.stderr
    assert cli("db", "doctor", "--old-transaction", "5m", "--json").stderr.count("warning") == 0


# -- renamed options --------------------------------------------------------------------------------


def test_tz_is_timezone_with_a_deprecation_line_once(cli) -> None:
    new = cli("spend", "summary", "--timezone", "Asia/Kolkata", "--json")
    old = cli("spend", "summary", "--tz", "Asia/Kolkata", "--json")
    assert new.code == old.code == 0, old
    assert old.stderr.count("dbctl: warning: --tz is deprecated; use --timezone") == 1
    assert old.json()["period"]["timezone"] == new.json()["period"]["timezone"] == "Asia/Kolkata"
    assert cli("spend", "logs", "--tz=UTC").code == 0
    assert cli("spend", "summary", "--tz", "UTC", "-q").stderr == ""  # -q silences diagnostics


def test_budget_reset_time_is_one_name(cli) -> None:
    old = cli("budget", "sync", "--dry-run", "--json", "--reset-time", "02:30")
    new = cli("budget", "sync", "--dry-run", "--json", "--budget-reset-time", "02:30")
    assert old.json()["reset_time"] == new.json()["reset_time"] == "02:30"
    assert "--reset-time is deprecated; use --budget-reset-time" in old.stderr and "warning" not in new.stderr


def test_team_member_budget_is_the_spec_field_name(cli) -> None:
    assert cli("team", "provision", "--team-id", "research", "--team-member-budget", "5").code == 0
    old = cli("team", "provision", "--team-id", "research", "--member-budget", "7", "--member-budget-duration", "1d")
    assert old.code == 0, old
    assert "--member-budget is deprecated; use --team-member-budget" in old.stderr
    assert "--member-budget-duration is deprecated; use --team-member-budget-duration" in old.stderr
    budget = cli("team", "show", "research", "--json").json()["member_budget"]
    assert (budget["max_budget"], budget["budget_duration"]) == (7, "1d")


def test_a_file_is_the_argument_and_f_is_deprecated(cli, tmp_path: Path) -> None:
    limits = tmp_path / "budgets.yaml"
    limits.write_text("teams: 5\n")
    new = cli("budget", "sync", str(limits), "--dry-run")
    old = cli("budget", "sync", "-f", str(limits), "--dry-run")
    assert new.code == old.code == 2 and "budgets.yaml:1" in new.stderr, new  # read, and refused
    assert old.stderr.endswith(new.stderr)
    assert "-f is deprecated; give BUDGETS.YAML as the argument, without -f" in old.stderr
    users = tmp_path / "users.yaml"
    users.write_text("- user_id: ada\n  user_email: ada@example.com\n")
    assert cli("user", "provision", str(users)).code == 0
    again = cli("user", "provision", f"--file={users}", "--dry-run")
    assert again.code == 0 and "--file is deprecated; give FILE as the argument" in again.stderr


def test_t_is_type_and_daily_table_lost_it(cli) -> None:
    assert cli("budget", "status", "-t", "key", "--json").code == 0
    old = cli("daily", "check", "-t", "user", "-tteam", "--json")
    new = cli("daily", "check", "--table", "user", "--table", "team", "--json")
    assert old.code == new.code and old.json()["tables"] == new.json()["tables"] == ["user", "team"]
    assert old.stderr.count("-t is deprecated; use --table") == 1


def test_entity_kinds_are_spelled_alike(cli) -> None:
    dash = cli("budget", "status", "--type", "end-user,team-member", "--all", "--json")
    under = cli("budget", "status", "--type", "end_user", "--type", "team_member", "--all", "--json")
    assert dash.code == under.code == 0 and dash.json() == under.json()
    by_dash = cli("spend", "top", "--by", "end-user", "--json")
    by_under = cli("spend", "top", "--by", "end_user", "--json")
    assert by_dash.code == by_under.code == 0 and by_dash.json()["by"] == by_under.json()["by"] == "end-user"


def test_n_limits_every_list_and_alias_matches_a_substring_everywhere(cli) -> None:
    for alias in ("Payments-Prod", "payments-staging", "search"):
        assert cli("team", "provision", "--team-id", alias.lower(), "--alias", alias).code == 0
        assert cli("key", "create", "--alias", alias, "--team", alias.lower()).code == 0
    for group in ("team", "key"):
        found = cli(group, "list", "--alias", "PAYMENTS", "--json").json()
        assert sorted(r[f"{group}_alias"] if group == "team" else r["key_alias"] for r in found) == \
            ["Payments-Prod", "payments-staging"], group
        cut = cli(group, "list", "-n", "1", "--json")
        assert len(cut.json()) == 1 and "raise --limit" in cut.stderr
    for group in ("user", "org"):
        assert cli(group, "list", "-n", "1").code == 0


# -- periods ----------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 22, 21, 17, 5, tzinfo=timezone.utc)
TODAY = NOW.date()


@given(st.integers(min_value=0, max_value=400), st.sampled_from(["d", "w"]))
def test_a_relative_day_means_the_same_at_either_end(count: int, unit: str) -> None:
    day = TODAY - timedelta(days=count * (7 if unit == "w" else 1))
    period = periods.period(f"{count}{unit}", f"{count}{unit}", now=NOW)
    assert period.days() == [day]  # a day is included whole as --since and as --until
    assert periods.period(day.isoformat(), day.isoformat(), now=NOW).days() == [day]


def test_named_days_and_instants() -> None:
    assert periods.period("1d", "1d", now=NOW) == periods.period("yesterday", "yesterday", now=NOW)
    assert periods.period("0d", None, now=NOW).since == periods.period("today", None, now=NOW).since
    instant = periods.period("90m", "30m", now=NOW)
    assert (instant.since, instant.until) == (NOW - timedelta(minutes=90), NOW - timedelta(minutes=30))
    with pytest.raises(InvalidInput, match="--since"):
        periods.period("7 days", None, now=NOW)


def test_spend_and_daily_read_a_period_alike(cli) -> None:
    """The defect: `--since 7d` was 7 days with today in spend and 7 days before today in daily;
    `--until` a date included in both only by accident of the bare date."""
    for since, until in (("7d", "yesterday"), ("2026-01-10", "2026-01-12"), ("4w", "1d"), ("24h", "1d")):
        spend = cli("spend", "summary", "--since", since, "--until", until, "--json")
        daily = cli("daily", "check", "--since", since, "--until", until, "--json")
        assert spend.code == 0 and daily.code in (0, 3), (since, until, spend, daily)
        days = spend.json()["period"]["days"]
        shown = (days["first"], days["last"]) if days else None
        assert shown == (daily.json()["since"], daily.json()["until"]), (since, until)
    week = cli("daily", "check", "--json").json()  # the defaults: the seven closed days before today
    today = datetime.now(timezone.utc).date()
    assert (date.fromisoformat(week["since"]), date.fromisoformat(week["until"])) == \
        (today - timedelta(days=7), today - timedelta(days=1))
