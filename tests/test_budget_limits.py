"""`dbctl budget sync --file budgets.yaml`: declared limits, validated whole, written where they differ."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import fix_budget as fx
import pytest
from helpers import Database

from litellm_dbctl.budget import limits
from litellm_dbctl.common import durations

NOW = "2026-06-10T12:00:00Z"

SPEC = """\
keys:
  - alias: ci-bot
    max_budget: 50
    budget_duration: 30d
    tpm_limit: 1000
users:
  - id: alice
    max_budget: 100.5
    rpm_limit: null          # clear it
teams:
  - alias: Research
    soft_budget: 800
    max_budget: 1000
orgs:
  - id: acme
    max_budget: 5000
    budget_duration: 1mo
end_users:
  - id: customer-42
    max_budget: 3
tags:
  - name: prod
    max_budget: 70
budgets:
  - id: gold
    rpm_limit: 60
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "budgets.yaml"
    path.write_text(text)
    return str(path)


def seed(db: Database) -> None:
    fx.key(db, "tok-ci", key_alias="ci-bot", max_budget=10.0, spend=4.0)
    fx.user(db, "alice", max_budget=100.5, rpm_limit=5, spend=2.0)
    fx.team(db, "team-r", team_alias="Research", max_budget=1000.0)
    fx.tier(db, "acme-tier")
    fx.org(db, "acme", "acme-tier")
    fx.end_user(db, "customer-42", spend=1.0)
    fx.tag(db, "prod")
    fx.tier(db, "gold", rpm_limit=10)


def test_limits_applied_then_nothing_to_do(cli, db: Database, tmp_path: Path) -> None:
    seed(db)
    spec = write(tmp_path, SPEC)
    result = cli("budget", "sync", "--no-resets", "--file", spec, "--now", NOW, "--json")
    assert result.code == 0, result
    changes = {(c["entity"], c["id"]): c for c in result.json()["changes"]}
    assert set(changes) == {("key", "tok-ci"), ("user", "alice"), ("team", "team-r"), ("org", "acme"),
                            ("end_user", "customer-42"), ("tag", "prod"), ("budget", "gold")}
    key = changes[("key", "tok-ci")]["changes"]
    assert key["max_budget"] == {"old": 10.0, "new": 50}
    assert key["budget_reset_at"] == {"old": None, "new": "2026-07-01T00:00:00+00:00"}  # a new 30d window
    assert set(changes[("user", "alice")]["changes"]) == {"rpm_limit"}  # max_budget already 100.5
    assert changes[("org", "acme")]["via"] == "acme-tier"

    assert db.query('SELECT max_budget, budget_duration, tpm_limit, spend FROM "LiteLLM_VerificationToken"') == [
        {"max_budget": 50.0, "budget_duration": "30d", "tpm_limit": 1000, "spend": 4.0}]
    assert db.value("SELECT rpm_limit FROM \"LiteLLM_UserTable\" WHERE user_id = 'alice'") is None
    assert db.query('SELECT soft_budget, max_budget FROM "LiteLLM_TeamTable"') == [
        {"soft_budget": 800.0, "max_budget": 1000.0}]
    assert db.query("SELECT max_budget, budget_duration, budget_reset_at FROM \"LiteLLM_BudgetTable\" "
                    "WHERE budget_id = 'acme-tier'") == [
        {"max_budget": 5000.0, "budget_duration": "1mo", "budget_reset_at": datetime(2026, 7, 1)}]
    # end user and tag had no tier: each gets its own, linked
    own = db.query('SELECT e.user_id, b.max_budget, b.created_by FROM "LiteLLM_EndUserTable" e '
                   'JOIN "LiteLLM_BudgetTable" b USING (budget_id)')
    assert own == [{"user_id": "customer-42", "max_budget": 3.0, "created_by": "dbctl"}]
    assert db.value('SELECT b.max_budget FROM "LiteLLM_TagTable" t JOIN "LiteLLM_BudgetTable" b USING (budget_id)') == 70
    assert db.value("SELECT rpm_limit FROM \"LiteLLM_BudgetTable\" WHERE budget_id = 'gold'") == 60

    again = cli("budget", "sync", "--no-resets", "--file", spec, "--now", NOW, "--check")
    assert again.code == 0, again


def test_dry_run_writes_nothing(cli, db: Database, tmp_path: Path) -> None:
    seed(db)
    result = cli("budget", "sync", "--no-resets", "--file", write(tmp_path, SPEC), "--dry-run")
    assert result.code == 3, result
    assert db.value('SELECT max_budget FROM "LiteLLM_VerificationToken"') == 10.0
    assert db.value('SELECT count(*) FROM "LiteLLM_BudgetTable"') == 2


@pytest.mark.parametrize(("text", "expected"), [
    ("keys: [{alias: a, max_budget: -1}]", "budgets.yaml:1: keys[0].max_budget"),
    ("keys:\n  - alias: a\n    soft_budget: 5\n", "keys have no soft_budget"),
    ("users:\n  - id: u\n    budget_duration: 2mo\n", "LiteLLM rejects it"),
    ("users:\n  - id: u\n    budget_duration: 30\n", "duration string"),
    ("users:\n  - id: u\n    tpm_limit: 1.5\n", "whole number"),
    ("users:\n  - id: u\n    max_budget: true\n", "number"),
    ("users:\n  - id: u\n    max_bugdet: 5\n", "unknown field"),
    ("users:\n  - max_budget: 5\n", "missing id"),
    ("users:\n  - id: 12\n", "quote it"),
    ("teams:\n  - id: t\n    alias: T\n", "not both"),
    ("groups: []\n", "unknown section"),
    ("users:\n  - id: u\n  - id: u\n", "named twice"),
    ("users: {id: u}\n", "must be a list"),
    ("users:\n  - id: u\n    max_budget: [1\n", "not valid YAML"),
    # numbers no column holds: NaN, infinities, integers past bigint (a crash before), and `1e309`,
    # which YAML 1.1 reads as a string (1.0e+309 is its infinity)
    ("users:\n  - id: u\n    max_budget: .nan\n", "budgets.yaml:6: users[0].max_budget: must be a finite number"),
    ("users:\n  - id: u\n    max_budget: .inf\n", "users[0].max_budget: must be a finite number"),
    ("teams:\n  - id: t\n    soft_budget: -.inf\n", "budgets.yaml:3: teams[0].soft_budget: must be a finite"),
    ("users:\n  - id: u\n    max_budget: 1.0e+309\n", "users[0].max_budget: must be a finite number"),
    ("users:\n  - id: u\n    max_budget: 1e309\n", "users[0].max_budget: must be a number >= 0 or null, not '1e309'"),
    ("users:\n  - id: u\n    max_budget: 1" + "0" * 400 + "\n", "users[0].max_budget: must be at most 9223372036854775807"),
    ("users:\n  - id: u\n    max_budget: 9223372036854775808\n", "past bigint"),
    ("users:\n  - id: u\n    rpm_limit: 9223372036854775808\n", "users[0].rpm_limit: must be a whole number from 0"),
    ("users:\n  - id: u\n    tpm_limit: .nan\n", "users[0].tpm_limit: must be a whole number"),
    ("users:\n  - id: \"u\\0\"\n    max_budget: 1\n", "users[0].id: must not contain a NUL"),  # exit 1 before
])
def test_bad_files_exit_2_and_change_nothing(cli, db: Database, tmp_path: Path, text: str, expected: str) -> None:
    fx.user(db, "u", max_budget=1.0)
    fx.key(db, "k", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)  # due: must not be reset either
    result = cli("budget", "sync", "--file", write(tmp_path, "keys:\n  - alias: k\n    max_budget: 9\n" + text
                                                    if text.startswith("users") else text))
    assert result.code == 2, result
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr  # one problem, one line
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k") == 5.0
    assert db.value('SELECT max_budget FROM "LiteLLM_VerificationToken"') is None


def test_every_problem_is_listed_with_its_line(cli, db: Database, tmp_path: Path) -> None:
    result = cli("budget", "sync", "--file", write(tmp_path, "users:\n  - id: u\n    max_budget: -1\n"
                                                   "  - id: v\n    rpm_limit: x\n"))
    assert result.code == 2
    assert "budgets.yaml:3:" in result.stderr and "budgets.yaml:5:" in result.stderr
    assert "2 problems" in result.stderr


def test_unknown_and_ambiguous_names_exit_2_and_change_nothing(cli, db: Database, tmp_path: Path) -> None:
    fx.key(db, "k1", key_alias="twin")
    fx.key(db, "k2", key_alias="twin")
    fx.user(db, "known", max_budget=1.0)
    fx.tier(db, "shared")
    fx.org(db, "o1", "shared")
    fx.org(db, "o2", "shared")
    result = cli("budget", "sync", "--file", write(tmp_path, (
        "users:\n  - id: known\n    max_budget: 2\n  - id: ghost\n    max_budget: 2\n"
        "keys:\n  - alias: twin\n    max_budget: 2\n"
        "orgs:\n  - id: o1\n    max_budget: 2\n"
        "budgets:\n  - id: nope\n    max_budget: 2\n")))
    assert result.code == 2, result
    for fragment in ("no user with id 'ghost'", "2 keys have alias 'twin'", "1 other row(s) share",
                     "no budget tier with id 'nope'"):
        assert fragment in result.stderr
    assert db.value("SELECT max_budget FROM \"LiteLLM_UserTable\" WHERE user_id = 'known'") == 1.0


def test_changing_a_duration_moves_the_window_and_keeps_spend(cli, db: Database, tmp_path: Path) -> None:
    fx.team(db, "t", spend=40.0, budget_duration="1mo", budget_reset_at=datetime(2026, 7, 1))
    spec = write(tmp_path, "teams:\n  - id: t\n    budget_duration: 7d\n")
    assert cli("budget", "sync", "--file", spec, "--now", NOW, "-q").code == 0
    assert db.query('SELECT spend, budget_duration, budget_reset_at FROM "LiteLLM_TeamTable"') == [
        {"spend": 40.0, "budget_duration": "7d", "budget_reset_at": datetime(2026, 6, 15)}]
    cleared = write(tmp_path, "teams:\n  - id: t\n    budget_duration: null\n")
    assert cli("budget", "sync", "--file", cleared, "--now", NOW, "-q").code == 0
    assert db.query('SELECT budget_duration, budget_reset_at FROM "LiteLLM_TeamTable"') == [
        {"budget_duration": None, "budget_reset_at": None}]


def test_missing_file_exits_2(cli, db: Database, tmp_path: Path) -> None:
    result = cli("budget", "sync", "--file", str(tmp_path / "absent.yaml"))
    assert result.code == 2
    assert "absent.yaml" in result.stderr


def test_empty_file_is_nothing_to_do(cli, db: Database, tmp_path: Path) -> None:
    assert cli("budget", "sync", "--file", write(tmp_path, "# nothing yet\n"), "--check").code == 0


def test_value_checks_take_the_edges_of_each_column() -> None:
    """The checks every budgets.yaml value passes (pure: no database)."""
    assert limits.check_amount(0) is None and limits.check_amount(2.5) is None
    assert limits.check_amount(limits.BIGINT_MAX) is None and limits.check_amount(1e300) is None
    for bad in (float("nan"), float("inf"), -float("inf"), limits.BIGINT_MAX + 1, -0.5, True, "5", [5]):
        assert limits.check_amount(bad), bad
    assert limits.check_count(0) is None and limits.check_count(limits.BIGINT_MAX) is None
    for bad in (limits.BIGINT_MAX + 1, -1, 1.0, float("nan"), False, "1"):
        assert limits.check_count(bad), bad
    assert limits.check_name("acme") is None
    for bad in ("", "a\x00b", 12, None):
        assert limits.check_name(bad), bad
    assert limits.check_duration("30d", durations.UTC_MIDNIGHT) is None
    assert "LiteLLM rejects it" in (limits.check_duration("2mo", durations.UTC_MIDNIGHT) or "")
    assert limits.check_field("rpm_limit", None, durations.UTC_MIDNIGHT) is None  # null clears a limit
