"""`dbctl budget sync --file budgets.yaml`: declared limits, validated whole, written where they differ."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import fix_budget as fx
import pytest
from helpers import Database

from litellm_dbctl.budget import limits
from litellm_dbctl.common import checks, durations
from litellm_dbctl.common.errors import InvalidSpec

NOW = "2026-06-10T12:00:00Z"

SPEC = """\
keys:
  - key_alias: ci-bot
    max_budget: 50
    budget_duration: 30d
    tpm_limit: 1000
users:
  - user_email: Alice@Example.com
    max_budget: 100.5
    rpm_limit: null          # clear it
teams:
  - team_alias: Research
    soft_budget: 800
    max_budget: 1000
organizations:
  - organization_alias: acme
    max_budget: 5000
    budget_duration: 1mo
end_users:
  - user_id: customer-42
    max_budget: 3
tags:
  - name: prod
    max_budget: 70
budgets:
  - budget_id: gold
    rpm_limit: 60
"""
# The same file with the names before issue 18: still accepted (one deprecation line on stderr).
OLD_SPEC = (SPEC.replace("key_alias:", "alias:").replace("user_email: Alice@Example.com", "id: alice")
            .replace("team_alias:", "alias:").replace("organizations:\n  - organization_alias:", "orgs:\n  - id:")
            .replace("user_id: customer-42", "id: customer-42").replace("budget_id:", "id:"))


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "budgets.yaml"
    path.write_text(text)
    return str(path)


def seed(db: Database) -> None:
    fx.key(db, "tok-ci", key_alias="ci-bot", max_budget=10.0, spend=4.0)
    fx.user(db, "alice", user_email="alice@example.com", max_budget=100.5, rpm_limit=5, spend=2.0)
    fx.team(db, "team-r", team_alias="Research", max_budget=1000.0)
    fx.tier(db, "acme-tier")
    fx.org(db, "acme", "acme-tier")
    fx.end_user(db, "customer-42", spend=1.0)
    fx.tag(db, "prod")
    fx.tier(db, "gold", rpm_limit=10)


@pytest.mark.parametrize("text", [SPEC, OLD_SPEC], ids=["spec-names", "deprecated-names"])
def test_limits_applied_then_nothing_to_do(cli, db: Database, tmp_path: Path, text: str) -> None:
    seed(db)
    spec = write(tmp_path, text)
    result = cli("budget", "sync", "--no-resets", spec, "--now", NOW, "--json")
    assert result.code == 0, result
    deprecation = [line for line in result.stderr.splitlines() if "deprecated" in line]
    if text == SPEC:
        assert deprecation == []
    else:  # one line, naming the first old name and its replacement
        assert deprecation == [f"dbctl: warning: {spec} uses deprecated names (line 2: keys[0].alias -> key_alias "
                               "and 6 more): they are accepted until the next release; use the provisioning "
                               "spec's names"]
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

    again = cli("budget", "sync", "--no-resets", spec, "--now", NOW, "--check")
    assert again.code == 0, again


def test_dry_run_writes_nothing(cli, db: Database, tmp_path: Path) -> None:
    seed(db)
    result = cli("budget", "sync", "--no-resets", write(tmp_path, SPEC), "--dry-run")
    assert result.code == 3, result
    assert db.value('SELECT max_budget FROM "LiteLLM_VerificationToken"') == 10.0
    assert db.value('SELECT count(*) FROM "LiteLLM_BudgetTable"') == 2


@pytest.mark.parametrize(("text", "expected"), [
    ("keys: [{alias: a, max_budget: -1}]", "budgets.yaml:1: keys[0].max_budget"),
    ("keys:\n  - alias: a\n    soft_budget: 5\n", "keys have no soft_budget"),
    ("users:\n  - id: u\n    budget_duration: 2mo\n", "invalid duration '2mo': monthly windows support only 1mo"),
    ("users:\n  - id: u\n    budget_duration: 30\n", "expected a duration (e.g. 30s"),
    ("users:\n  - id: u\n    tpm_limit: 1.5\n", "whole number"),
    ("users:\n  - id: u\n    max_budget: true\n", "number"),
    ("users:\n  - id: u\n    max_bugdet: 5\n", "unknown field"),
    ("users:\n  - max_budget: 5\n", "missing user_id or user_email or sso_user_id"),
    ("users:\n  - id: 12\n", "quote it"),
    ("teams:\n  - id: t\n    alias: T\n", "not several"),
    ("teams:\n  - team_id: t\n    team_alias: T\n", "not several"),
    ("groups: []\n", "unknown section"),
    ("users:\n  - id: u\n  - id: u\n", "named twice"),
    ("users: {id: u}\n", "must be a list"),
    ("users:\n  - id: u\n    max_budget: [1\n", "not valid YAML"),
    # numbers no column holds: NaN, infinities, integers past a double or (limits) past bigint, and
    # `1e309`, which YAML 1.1 reads as a string (1.0e+309 is its infinity)
    ("users:\n  - id: u\n    max_budget: .nan\n", "budgets.yaml:6: users[0].max_budget: must be a finite number"),
    ("users:\n  - id: u\n    max_budget: .inf\n", "users[0].max_budget: must be a finite number"),
    ("teams:\n  - id: t\n    soft_budget: -.inf\n", "budgets.yaml:3: teams[0].soft_budget: must be a finite"),
    ("users:\n  - id: u\n    max_budget: 1.0e+309\n", "users[0].max_budget: must be a finite number"),
    ("users:\n  - id: u\n    max_budget: 1e309\n", "users[0].max_budget: expected a number, got str '1e309'"),
    ("users:\n  - id: u\n    max_budget: 1" + "0" * 400 + "\n", "users[0].max_budget: too large: at most 1.79769e+308"),
    ("users:\n  - id: u\n    rpm_limit: 9223372036854775808\n", "users[0].rpm_limit: too large: at most 9223372036854775807"),
    ("users:\n  - id: u\n    tpm_limit: .nan\n", "users[0].tpm_limit: expected a whole number, got float nan"),
    ("users:\n  - id: \"u\\0\"\n    max_budget: 1\n", "users[0].id: must not contain a NUL"),  # exit 1 before
])
def test_bad_files_exit_2_and_change_nothing(cli, db: Database, tmp_path: Path, text: str, expected: str) -> None:
    fx.user(db, "u", max_budget=1.0)
    fx.key(db, "k", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)  # due: must not be reset either
    result = cli("budget", "sync", write(tmp_path, "keys:\n  - alias: k\n    max_budget: 9\n" + text
                                                    if text.startswith("users") else text))
    assert result.code == 2, result
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr  # one problem, one line
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "k") == 5.0
    assert db.value('SELECT max_budget FROM "LiteLLM_VerificationToken"') is None


def test_every_problem_is_listed_with_its_line(cli, db: Database, tmp_path: Path) -> None:
    result = cli("budget", "sync", write(tmp_path, "users:\n  - id: u\n    max_budget: -1\n"
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
    result = cli("budget", "sync", write(tmp_path, (
        "users:\n  - id: known\n    max_budget: 2\n  - id: ghost\n    max_budget: 2\n"
        "keys:\n  - alias: twin\n    max_budget: 2\n"
        "orgs:\n  - id: o1\n    max_budget: 2\n"
        "budgets:\n  - id: nope\n    max_budget: 2\n")))
    assert result.code == 2, result
    for fragment in ("budgets.yaml:4: users[1].id: no user 'ghost'",
                     "budgets.yaml:7: keys[0].alias: 'twin' is the key alias of 2 keys: k1…, k2…",
                     "1 other row(s) share", "budgets.yaml:13: budgets[0].id: no budget tier 'nope'"):
        assert fragment in result.stderr
    assert db.value("SELECT max_budget FROM \"LiteLLM_UserTable\" WHERE user_id = 'known'") == 1.0


def test_changing_a_duration_moves_the_window_and_keeps_spend(cli, db: Database, tmp_path: Path) -> None:
    fx.team(db, "t", spend=40.0, budget_duration="1mo", budget_reset_at=datetime(2026, 7, 1))
    spec = write(tmp_path, "teams:\n  - id: t\n    budget_duration: 7d\n")
    assert cli("budget", "sync", spec, "--now", NOW, "-q").code == 0
    assert db.query('SELECT spend, budget_duration, budget_reset_at FROM "LiteLLM_TeamTable"') == [
        {"spend": 40.0, "budget_duration": "7d", "budget_reset_at": datetime(2026, 6, 15)}]
    cleared = write(tmp_path, "teams:\n  - id: t\n    budget_duration: null\n")
    assert cli("budget", "sync", cleared, "--now", NOW, "-q").code == 0
    assert db.query('SELECT budget_duration, budget_reset_at FROM "LiteLLM_TeamTable"') == [
        {"budget_duration": None, "budget_reset_at": None}]


def test_missing_file_exits_2(cli, db: Database, tmp_path: Path) -> None:
    result = cli("budget", "sync", str(tmp_path / "absent.yaml"))
    assert result.code == 2
    assert "absent.yaml" in result.stderr


def test_empty_file_is_nothing_to_do(cli, db: Database, tmp_path: Path) -> None:
    assert cli("budget", "sync", write(tmp_path, "# nothing yet\n"), "--check").code == 0


def test_value_checks_take_the_edges_of_each_column() -> None:
    """Every budgets.yaml value passes the checks spec files, flags and proxy configs pass
    (common.checks; pure: no database)."""
    def refused(name: str, value: object) -> bool:
        try:
            limits.check_field(name, value, durations.UTC_MIDNIGHT)
        except checks.InvalidValue:
            return True
        return False

    for good in (0, 2.5, checks.BIGINT_MAX, checks.BIGINT_MAX + 1, 1e300, None):  # a double holds 2**63
        assert not refused("max_budget", good), good
    for bad in (float("nan"), float("inf"), -float("inf"), 10**400, -0.5, True, "5", [5]):
        assert refused("soft_budget", bad), bad
    for good in (0, checks.BIGINT_MAX, None):
        assert not refused("rpm_limit", good), good
    for bad in (checks.BIGINT_MAX + 1, -1, 1.0, float("nan"), False, "1"):
        assert refused("tpm_limit", bad), bad
    assert not refused("budget_duration", "30d") and refused("budget_duration", "2mo")
    assert refused("budget_duration", 30) and refused("budget_duration", "1d\x00")


def test_names_are_checked_and_trimmed_as_in_spec_files() -> None:
    [entry] = limits.parse("users:\n  - id: ' alice '\n    max_budget: 9223372036854775808\n", "b.yaml").entries
    assert (entry.name, entry.fields) == ("alice", {"max_budget": 2**63})
    for bad, message in (("''", "must not be empty"), ('"a\\0b"', "must not contain a NUL"), ("12", "quote it"),
                         ("null", "expected a string, got null")):
        with pytest.raises(InvalidSpec, match=f"b.yaml:2: users\\[0\\].id: .*{message}"):
            limits.parse(f"users:\n  - id: {bad}\n", "b.yaml")


def test_a_budget_past_bigint_is_written_as_a_double_as_from_a_spec_file(cli, db: Database, tmp_path: Path) -> None:
    fx.user(db, "u", max_budget=1.0)
    result = cli("budget", "sync", "--no-resets", write(tmp_path, "users:\n  - id: u\n"
                                                                             "    max_budget: 9223372036854775808\n"))
    assert result.code == 0, result
    assert db.value("SELECT max_budget FROM \"LiteLLM_UserTable\" WHERE user_id = 'u'") == float(2**63)
