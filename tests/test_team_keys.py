"""A team key within its team's models and limits (issue 18 item 6), in `key create` and in specs.

LiteLLM holds a team key to its team (provision/team_keys.py): models the team may call (none, `*`
or `all-proxy-models`: any; `openai/*` a pattern; the key's `all-team-models` always), and
max_budget, tpm_limit, rpm_limit not above the team's. Refused: exit 2 naming the field and the
team's limit, nothing written.
"""

from __future__ import annotations

import pytest
from fix_provision import write
from hypothesis import given
from hypothesis import strategies as st

from litellm_dbctl.provision import team_keys


@pytest.fixture
def team(cli) -> str:
    """Team research (models gpt-4o and openai/*, max_budget 50, tpm 1000, rpm 10), user admin in it."""
    assert cli("team", "provision", "--team-id", "t1", "--alias", "research", "--models", "gpt-4o,openai/*",
               "--max-budget", "50", "--tpm-limit", "1000", "--rpm-limit", "10").code == 0
    assert cli("user", "provision", "--user-id", "admin", "--team", "t1").code == 0
    return "research"


def keys(db) -> list[str]:
    return [r["key_alias"] for r in db.query('SELECT key_alias FROM "LiteLLM_VerificationToken" ORDER BY key_alias')]


@pytest.mark.parametrize("args", [
    ("--models", "gpt-4o,openai/gpt-4.1-mini,all-team-models"),
    ("--max-budget", "50"),
    ("--tpm-limit", "1000", "--rpm-limit", "10"),
    (),
])
def test_key_create_within_the_team_is_accepted(cli, db, team: str, args: tuple[str, ...]) -> None:
    result = cli("key", "create", "--user", "admin", "--team", team, "--alias", "k", *args)
    assert result.code == 0, result
    assert keys(db) == ["k"]


@pytest.mark.parametrize(("args", "named", "limit"), [
    (("--models", "gpt-4o,claude-3"), "--models", "gpt-4o, openai/*"),
    (("--models", "all-proxy-models"), "--models", "gpt-4o, openai/*"),
    (("--models", "openai-gpt"), "--models", "gpt-4o, openai/*"),  # `openai/*` is a pattern, not a prefix
    (("--max-budget", "50.01"), "--max-budget", "max_budget 50 of team"),
    (("--tpm-limit", "1001"), "--tpm-limit", "tpm_limit 1000"),
    (("--rpm-limit", "11"), "--rpm-limit", "rpm_limit 10"),
])
def test_key_create_beyond_the_team_is_exit_2_naming_the_flag_and_the_limit(
        cli, db, team: str, args: tuple[str, ...], named: str, limit: str) -> None:
    result = cli("key", "create", "--user", "admin", "--team", team, "--alias", "k", *args)
    assert result.code == 2, result
    [line] = result.stderr.splitlines()
    assert line.startswith(f"dbctl: error: {named}: ") and limit in line and "research" in line, line
    assert result.stdout == "" and keys(db) == []


@pytest.mark.parametrize("team_args", [(), ("--models", "all-proxy-models"), ("--models", "*")])
def test_a_team_with_no_models_or_all_proxy_models_admits_any_model(cli, db, team_args: tuple[str, ...]) -> None:
    assert cli("team", "provision", "--team-id", "open", *team_args).code == 0
    result = cli("key", "create", "--team", "open", "--models", "claude-3,gpt-4o", "--max-budget", "1000000",
                 "--tpm-limit", "99999")
    assert result.code == 0, result


def test_a_personal_key_is_not_held_to_any_team(cli, team: str) -> None:
    assert cli("key", "create", "--user", "admin", "--models", "claude-3", "--max-budget", "500").code == 0


# -- specs -------------------------------------------------------------------------------------------

def test_a_spec_key_beyond_its_team_is_refused_at_its_line_and_field(cli, db, team: str, tmp_path) -> None:
    spec = write(tmp_path, """\
keys:
  - key_alias: ok
    team_id: research
    models: [openai/gpt-4o-mini]
  - key_alias: bad
    team_id: research
    models: [claude-3]
    max_budget: 80
    tpm_limit: 5000
""")
    result = cli("provision", "apply", spec)
    assert result.code == 2, result
    text = result.stderr
    assert "spec.yaml:7: keys[1].models: 'claude-3' not among the models of team 'research'" in text, text
    assert "spec.yaml:8: keys[1].max_budget: 80 is above the max_budget 50 of team 'research'" in text, text
    assert "spec.yaml:9: keys[1].tpm_limit: 5000 is above the tpm_limit 1000 of team 'research'" in text, text
    assert "keys[0]" not in text and keys(db) == []


def test_a_spec_checks_the_team_as_the_spec_leaves_it(cli, db, team: str, tmp_path) -> None:
    raised = write(tmp_path, """\
teams:
  - team_id: t1
    max_budget: 100
    models: []
keys:
  - key_alias: k
    team_id: research
    models: [claude-3]
    max_budget: 80
""")
    assert cli("provision", "apply", raised).code == 0
    assert keys(db) == ["k"]
    lowered = write(tmp_path, "teams:\n  - team_id: t1\n    max_budget: 60\n"
                              "keys:\n  - key_alias: k\n    max_budget: 70\n", "lowered.yaml")
    result = cli("provision", "apply", lowered)
    assert result.code == 2, result
    assert "lowered.yaml:6: keys[0].max_budget: 70 is above the max_budget 60 of team 'research'" in result.stderr, result


def test_an_existing_key_is_held_to_its_team_when_the_spec_names_no_team(cli, db, team: str, tmp_path) -> None:
    assert cli("key", "create", "--user", "admin", "--team", team, "--alias", "k").code == 0
    spec = write(tmp_path, "keys:\n  - key_alias: k\n    rpm_limit: 20\n")
    result = cli("provision", "apply", spec)
    assert result.code == 2, result
    assert "spec.yaml:3: keys[0].rpm_limit: 20 is above the rpm_limit 10 of team 'research'" in result.stderr, result


def test_a_key_moved_into_a_team_brings_its_models_and_limits_to_the_check(cli, db, team: str, tmp_path) -> None:
    assert cli("key", "create", "--user", "admin", "--alias", "k", "--models", "claude-3").code == 0
    spec = write(tmp_path, "keys:\n  - key_alias: k\n    team_id: research\n")
    result = cli("provision", "apply", spec)
    assert result.code == 2, result
    assert "spec.yaml:3: keys[0].models: 'claude-3' not among the models of team 'research'" in result.stderr, result
    assert db.value("""SELECT team_id FROM "LiteLLM_VerificationToken" WHERE key_alias = 'k'""") is None


# -- the model rule ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("model", "team", "allowed"), [
    ("gpt-4o", [], True),
    ("gpt-4o", ["*"], True),
    ("gpt-4o", ["all-proxy-models"], True),
    ("all-team-models", ["gpt-4o"], True),
    ("all-proxy-models", ["gpt-4o"], False),
    ("openai/gpt-4o", ["openai/*"], True),
    ("openai/gpt-4o", ["anthropic/*"], False),
    ("openaiXgpt", ["openai.*"], False),  # only `*` is special: `.` is a dot
    ("openai.x", ["openai.*"], True),
    ("gpt-4o-mini", ["gpt-4o"], False),
])
def test_team_allows(model: str, team: list[str], allowed: bool) -> None:
    assert team_keys.team_allows(model, team) is allowed


@given(st.text(), st.lists(st.text()))
def test_a_model_the_team_lists_is_always_allowed(model: str, others: list[str]) -> None:
    assert team_keys.team_allows(model, [*others, model])


# -- guaranteed throughput: /key/generate's own check of a team key ---------------------------------

GUARANTEED = '{"tpm_limit_type": "guaranteed_throughput"}'


def test_guaranteed_throughput_must_fit_beside_the_teams_other_keys(cli, db, team: str) -> None:
    first = cli("key", "create", "--team", team, "--alias", "a", "--tpm-limit", "600", "--metadata", GUARANTEED)
    assert first.code == 0, first
    best_effort = cli("key", "create", "--team", team, "--alias", "b", "--tpm-limit", "600")
    assert best_effort.code == 0, best_effort  # LiteLLM's default, best effort: not held to the sum
    refused = cli("key", "create", "--team", team, "--alias", "c", "--tpm-limit", "1", "--metadata", GUARANTEED)
    assert refused.code == 2, refused
    [line] = refused.stderr.splitlines()
    assert line == ("dbctl: error: --tpm-limit: 1 with the 1200 the team's other keys hold is above the tpm_limit "
                    "1000 of team 'research' (guaranteed_throughput)"), line
    assert keys(db) == ["a", "b"]


def test_guaranteed_per_model_limits_are_held_to_the_teams_limit(cli, db, team: str) -> None:
    metadata = '{"rpm_limit_type": "guaranteed_throughput", "model_tpm_limit": {"gpt-4o": 1001}}'
    result = cli("key", "create", "--team", team, "--alias", "a", "--metadata", metadata)
    assert result.code == 2, result
    assert "--metadata: model_tpm_limit 1001 for 'gpt-4o' with the 0 the team's other keys hold is above the " \
           "tpm_limit 1000 of team 'research'" in result.stderr, result


def test_a_spec_counts_its_own_keys_in_the_teams_allocation(cli, db, team: str, tmp_path) -> None:
    assert cli("key", "create", "--team", team, "--alias", "old", "--tpm-limit", "300").code == 0
    body = "keys:\n" + "".join(f"  - key_alias: k{n}\n    team_id: research\n    tpm_limit: 400\n"
                                f"    metadata: {{tpm_limit_type: guaranteed_throughput}}\n" for n in range(2))
    result = cli("provision", "apply", write(tmp_path, body))
    assert result.code == 2, result
    assert "spec.yaml:4: keys[0].tpm_limit: 400 with the 700 the team's other keys hold is above the tpm_limit " \
           "1000 of team 'research'" in result.stderr, result
    lowered = body.replace("tpm_limit: 400", "tpm_limit: 350")  # 300 + 350 + 350 fits
    assert cli("provision", "apply", write(tmp_path, lowered, "lowered.yaml")).code == 0
    assert cli("provision", "apply", write(tmp_path, lowered, "lowered.yaml")).code == 0  # unchanged: not re-held


def test_allocation_against_the_teams_per_model_limits() -> None:
    team = {"team_id": "t", "metadata": {"model_rpm_limit": {"gpt-4o": 10}}}
    key = {"metadata": {"rpm_limit_type": "guaranteed_throughput", "model_rpm_limit": {"gpt-4o": 6, "other": 99}}}
    others = [{"metadata": {"model_rpm_limit": {"gpt-4o": 5}}}]
    [(field, why)] = team_keys.allocation_problems(key, others, team)
    assert field == "metadata" and "model_rpm_limit 10 for 'gpt-4o'" in why and "with the 5" in why
    assert team_keys.allocation_problems(key, [], team) == []
    assert team_keys.allocation_problems({**key, "metadata": {"model_rpm_limit": {"gpt-4o": 60}}}, others, team) == []
