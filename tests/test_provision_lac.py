"""litellm-as-code's published spec files, as they are: each applies, a second apply writes nothing,
and the sections dbctl does not manage are skipped with one warning line each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fix_provision import fingerprint, write
from helpers import ROOT
from hypothesis import given
from hypothesis import strategies as st

DATA = ROOT / "tests" / "data" / "litellm-as-code"
FILES = sorted(p.name for p in DATA.glob("*.yml"))
SKIPPED = ("credentials", "models", "guardrails", "policies")


def skipped_sections(path: Path) -> list[str]:
    """The top-level sections of a file that dbctl skips, in file order."""
    return [line.split(":")[0] for line in path.read_text().splitlines() if line.split(":")[0] in SKIPPED]


def test_the_published_files_are_all_here() -> None:
    assert ["examples-docker-compose-spec.yml", "examples-spec.yml", *(
        f"tests-live-spec-variant-{v}.yml" for v in "abcd")] == FILES
    assert "MIT License" in (DATA / "LICENSE").read_text()
    assert "5e1b11b138ec6eea23a800a092a1d06a9fb8df5c" in (DATA / "README.md").read_text()


@pytest.mark.parametrize("name", FILES)
def test_each_file_applies_and_converges(cli, db, name: str) -> None:
    path = DATA / name
    first = cli("provision", "apply", str(path))
    assert first.code == 0, first
    warnings = [line for line in first.stderr.splitlines() if line.startswith("dbctl: warning:")]
    sections = [w for w in warnings if "section skipped" in w]
    assert [w.split(": ")[3] for w in sections] == skipped_sections(path)  # one line per skipped section
    assert all(f"{path}:" in w for w in sections)
    before = fingerprint(db)
    second = cli("--json", "provision", "apply", str(path))
    assert second.code == 0, second
    assert json.loads(second.stdout)["summary"]["changed"] == 0
    assert fingerprint(db) == before  # nothing written at all
    assert cli("provision", "apply", str(path), "--dry-run").code == 0


def test_the_variants_in_sequence_converge(cli, db) -> None:
    """As litellm-as-code's live test runs them: one proxy, the mutation round (d) last."""
    for variant in "abcd":
        path = str(DATA / f"tests-live-spec-variant-{variant}.yml")
        assert cli("provision", "apply", path).code == 0
        assert cli("provision", "apply", path, "--dry-run").code == 0, variant
    team = db.query('SELECT * FROM "LiteLLM_TeamTable" WHERE team_id = %s', ["var-team-b-fixed"])[0]
    assert (team["team_alias"], team["max_budget"], team["budget_duration"]) == ("var-team-b-renamed", 99, "14d")
    assert {m["user_id"]: m["role"] for m in team["members_with_roles"]} == {"var-b-admin": "user",
                                                                           "var-service": "user"}
    tier = db.query('SELECT * FROM "LiteLLM_BudgetTable" WHERE budget_id = %s', ["var-b-budget"])[0]
    assert (tier["max_budget"], tier["tpm_limit"], tier["rpm_limit"], tier["budget_duration"]) == \
        (250, 1_000_000, 5000, "15d")
    assert db.value('SELECT user_role FROM "LiteLLM_UserTable" WHERE user_id = %s', ["var-b-admin"]) == \
        "internal_user_viewer"


def test_budget_tiers_are_written_as_budget_new_writes_them(cli, db) -> None:
    assert cli("provision", "apply", str(DATA / "examples-spec.yml")).code == 0
    tiers = {r["budget_id"]: r for r in db.query(
        'SELECT * FROM "LiteLLM_BudgetTable" WHERE budget_id IN (%s, %s)', ["platform-budget", "service-budget"])}
    service = tiers["service-budget"]
    assert (service["max_budget"], service["soft_budget"], service["tpm_limit"], service["rpm_limit"]) == \
        (25, 20, 100_000, 1000)
    assert service["budget_duration"] == "30d" and service["budget_reset_at"] is not None
    assert (service["created_by"], service["updated_by"]) == ("dbctl", "dbctl")
    assert db.value('SELECT count(*) FROM "LiteLLM_AuditLog" WHERE table_name = %s AND object_id = %s',
                    ["LiteLLM_BudgetTable", "service-budget"]) == 1


def test_a_changed_tier_is_updated_and_keys_name_tiers(cli, db, tmp_path) -> None:
    spec = """
budgets:
  - budget_id: shared
    max_budget: "10"
    budget_duration: 1d
virtual_keys:
  - key_alias: k1
    budget_id: shared
    blocked: "false"
"""
    assert cli("provision", "apply", write(tmp_path, spec)).code == 0
    assert db.value('SELECT budget_id FROM "LiteLLM_VerificationToken" WHERE key_alias = %s', ["k1"]) == "shared"
    reset_at = db.value('SELECT budget_reset_at FROM "LiteLLM_BudgetTable" WHERE budget_id = %s', ["shared"])
    changed = spec.replace('"10"', "12.5").replace("1d", "7d")
    result = cli("--json", "provision", "apply", write(tmp_path, changed))
    assert result.code == 0, result
    items = [i for i in json.loads(result.stdout)["items"] if i["kind"] == "budget"]
    assert items[0]["action"] == "update"
    assert {c["field"] for c in items[0]["changes"]} == {"max_budget", "budget_duration", "budget_reset_at"}
    row = db.query('SELECT * FROM "LiteLLM_BudgetTable" WHERE budget_id = %s', ["shared"])[0]
    assert (row["max_budget"], row["budget_duration"]) == (12.5, "7d") and row["budget_reset_at"] != reset_at


def test_a_key_naming_an_unknown_tier_is_refused(cli, db, tmp_path) -> None:
    path = write(tmp_path, "keys:\n  - key_alias: k1\n    budget_id: nowhere\n")
    result = cli("provision", "apply", path)
    assert result.code == 2
    assert f"{path}:3: keys[0].budget_id: no budget tier 'nowhere'" in result.stderr


@pytest.mark.parametrize(("value", "message"), [
    ('".nan"', "expected a number"), (".nan", "must be a finite number"), ('"inf"', "expected a number"),
    ('"1e400"', "must be a finite number"), ('"-1"', "must not be negative"), ('"ten"', "expected a number"),
])
def test_numbers_as_strings_still_refuse_what_litellm_refuses(cli, db, tmp_path, value: str, message: str) -> None:
    path = write(tmp_path, f"budgets:\n  - budget_id: b\n    max_budget: {value}\n")
    result = cli("provision", "apply", path)
    assert result.code == 2
    assert f"{path}:3: budgets[0].max_budget: {message}" in result.stderr


def test_litellm_wins_on_roles(cli, db, tmp_path) -> None:
    """litellm-as-code's schema allows user_role `admin`; LiteLLM has no such role."""
    path = write(tmp_path, "users:\n  - user_id: u\n    user_role: admin\n")
    result = cli("provision", "apply", path)
    assert result.code == 2 and f"{path}:3: users[0].user_role: unknown role 'admin'" in result.stderr


def test_auto_create_key_true_is_accepted_with_a_warning(cli, db, tmp_path) -> None:
    path = write(tmp_path, 'users:\n  - user_id: u\n    auto_create_key: "true"\n')
    result = cli("provision", "apply", path)
    assert result.code == 0, result
    assert f"dbctl: warning: {path}:3: users[0].auto_create_key: true" in result.stderr
    bad = cli("provision", "apply", write(tmp_path, 'users:\n  - user_id: u\n    auto_create_key: "maybe"\n'))
    assert bad.code == 2 and "users[0].auto_create_key: expected true or false" in bad.stderr


def test_quiet_silences_the_warnings(cli, db) -> None:
    result = cli("-q", "provision", "apply", str(DATA / "examples-spec.yml"))
    assert result.code == 0 and "warning" not in result.stderr


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers())
def test_a_number_spelt_as_a_string_is_that_number_or_refused(value: float) -> None:
    from litellm_dbctl.common import checks

    text = repr(value) if isinstance(value, float) else str(value)
    try:
        expected = checks.number(value)
    except checks.InvalidValue:
        with pytest.raises(checks.InvalidValue):
            checks.number(checks.numeric_text(text))
    else:
        assert checks.number(checks.numeric_text(text)) == expected


@pytest.mark.parametrize(("text", "expected"), [("true", True), (" False ", False), ("yes", True), ("0", False),
                                                ("maybe", "maybe"), ("", "")])
def test_booleans_spelt_as_pydantic_takes_them(text: str, expected: object) -> None:
    from litellm_dbctl.common import checks

    assert checks.boolean_text(text) == expected
