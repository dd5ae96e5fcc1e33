"""One identity vocabulary (DESIGN.md, issue 18): every command and file finds a user by user_id,
SSO id or email, a team or organization by id or alias, a key by alias, hash, hash prefix or raw
key; unknown or ambiguous is exit 2 naming it and the closest names."""

from __future__ import annotations

import pytest
from fix_budget import org, team, tier, user


@pytest.fixture
def people(cli, db) -> None:
    """ada (by email only), team research (alias Research) in org acme (alias acme), over budget."""
    assert cli("org", "provision", "--org-id", "org-1", "--alias", "acme", "--max-budget", "1").code == 0
    assert cli("team", "provision", "--team-id", "research", "--alias", "Research", "--org", "acme",
               "--max-budget", "1").code == 0
    assert cli("user", "provision", "--user-id", "ada-id", "--email", "ada@example.com", "--sso-id", "okta|ada",
               "--team", "research").code == 0
    db.execute('UPDATE "LiteLLM_TeamTable" SET spend = 5')


def test_key_create_finds_its_owner_by_email_or_sso_id(cli, db, people) -> None:
    for ref, alias in (("ada@example.com", "k1"), ("ADA@example.com", "k2"), ("okta|ada", "k3")):
        result = cli("key", "create", "--user", ref, "--alias", alias)
        assert result.code == 0, result
    assert {r["user_id"] for r in db.query('SELECT user_id FROM "LiteLLM_VerificationToken"')} == {"ada-id"}


def test_key_create_for_an_unknown_user_is_exit_2_with_the_closest_names(cli, db, people) -> None:
    result = cli("key", "create", "--user", "ada@exmple.com", "--alias", "k1")
    assert result.code == 2, result
    assert "no user 'ada@exmple.com'" in result.stderr and "ada@example.com" in result.stderr
    assert db.value('SELECT count(*) FROM "LiteLLM_VerificationToken"') == 0


def test_key_list_by_email_lists_the_users_keys(cli, people) -> None:
    assert cli("key", "create", "--user", "ada-id", "--alias", "k1").code == 0
    listed = cli("key", "list", "--user", "ada@example.com", "--json")
    assert listed.code == 0, listed
    assert [k["key_alias"] for k in listed.json()] == ["k1"]
    unknown = cli("key", "list", "--user", "nobody@example.com")
    assert unknown.code == 2 and "no user 'nobody@example.com'" in unknown.stderr


@pytest.mark.parametrize("args", [["user", "provision", "--email", "bob@example.com"],
                                  ["team", "provision", "--alias", "Payments"],
                                  ["org", "provision", "--alias", "globex"]])
def test_provisioning_a_new_object_prints_its_id_even_with_q(cli, db, args) -> None:
    result = cli(*args, "-q")
    assert result.code == 0, result
    ids = db.query('SELECT user_id AS id FROM "LiteLLM_UserTable" UNION ALL SELECT team_id FROM "LiteLLM_TeamTable" '
                   'UNION ALL SELECT organization_id FROM "LiteLLM_OrganizationTable"')
    assert len(ids) == 1
    assert ids[0]["id"] in result.stdout.split()


def test_the_printed_user_id_is_what_key_create_takes(cli, db) -> None:
    created = cli("user", "provision", "--email", "bob@example.com", "--json")
    assert created.code == 0, created
    user_id = created.json()["created"][0]["id"]
    assert cli("key", "create", "--user", user_id, "--alias", "bob-key").code == 0


@pytest.mark.parametrize("flag,value", [("--team", "Research"), ("--team", "research"), ("--org", "acme"),
                                        ("--org", "org-1")])
def test_budget_status_takes_an_alias_as_the_id(cli, people, flag, value) -> None:
    result = cli("budget", "status", flag, value, "--type", "team", "--json")
    assert result.code == 0, result
    assert [r["id"] for r in result.json()] == ["research"]
    assert cli("budget", "status", flag, value, "--fail-over", "-q").code == 3


@pytest.mark.parametrize("flag,value,names", [("--team", "Reserch", "'Research'"), ("--org", "acmee", "'acme'")])
def test_budget_status_of_an_unknown_entity_is_exit_2_with_the_closest(cli, people, flag, value, names) -> None:
    result = cli("budget", "status", flag, value, "--fail-over", "-q")
    assert result.code == 2, result
    what = "team" if flag == "--team" else "organization"
    assert result.stderr.splitlines()[0] == f"dbctl: error: no {what} {value!r}"
    assert names in result.stderr.splitlines()[1]


@pytest.mark.parametrize("flag,value", [("--user", "nobody@example.com"), ("--team", "Reserch"), ("--org", "acmee"),
                                        ("--key", "no-such-key")])
def test_a_spend_filter_naming_nothing_is_exit_2(cli, people, flag, value) -> None:
    result = cli("spend", "summary", flag, value)
    assert result.code == 2, result
    assert value in result.stderr


def test_a_spend_filter_finds_a_user_by_sso_id(cli, people) -> None:
    result = cli("spend", "summary", "--user", "okta|ada", "--json")
    assert result.code == 0, result


def test_an_alias_two_teams_share_is_exit_2_naming_both(cli, db, people) -> None:
    team(db, "research-2", team_alias="Research")
    for args in (["budget", "status", "--team", "Research"], ["key", "create", "--team", "Research", "--user", "ada-id"],
                 ["key", "list", "--team", "Research"], ["spend", "summary", "--team", "Research"],
                 ["team", "show", "Research"]):
        result = cli(*args)
        assert result.code == 2, (args, result)
        assert "research" in result.stderr and "research-2" in result.stderr, (args, result)


def test_an_email_two_users_share_is_exit_2_naming_both(cli, db, people) -> None:
    user(db, "ada-2", user_email="Ada@Example.com")
    for args in (["key", "create", "--user", "ada@example.com"], ["key", "list", "--user", "ada@example.com"],
                 ["spend", "summary", "--user", "ada@example.com"], ["user", "show", "ada@example.com"]):
        result = cli(*args)
        assert result.code == 2, (args, result)
        assert "ada-id" in result.stderr and "ada-2" in result.stderr, (args, result)
    # an id is never ambiguous
    assert cli("key", "create", "--user", "ada-2", "--alias", "k2").code == 0


def test_org_alias_two_orgs_share_is_exit_2(cli, db, people) -> None:
    tier(db, "b2")
    org(db, "org-2", "b2", organization_alias="acme")
    result = cli("budget", "status", "--org", "acme")
    assert result.code == 2 and "org-1" in result.stderr and "org-2" in result.stderr, result


def test_the_budgets_file_names_entities_as_the_spec_does(cli, db, people, tmp_path) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_text("users:\n  - user_email: ADA@example.com\n    max_budget: 7\n"
                    "teams:\n  - team_id: Research\n    max_budget: 8\n"  # an alias where an id goes: as --team
                    "organizations:\n  - organization_alias: acme\n    max_budget: 9\n")
    result = cli("budget", "sync", "--no-resets", str(path), "--json")
    assert result.code == 0, result
    assert {(c["entity"], c["id"]) for c in result.json()["changes"]} == {("user", "ada-id"), ("team", "research"),
                                                                          ("org", "org-1")}
    assert "deprecated" not in result.stderr
    assert db.value("SELECT max_budget FROM \"LiteLLM_UserTable\" WHERE user_id = 'ada-id'") == 7


@pytest.mark.parametrize("text,expected", [
    ("teams:\n  - team_alias: Reserch\n    max_budget: 1\n",
     "budgets.yaml:2: teams[0].team_alias: no team 'Reserch' (closest: 'Research', 'research')"),
    ("users:\n  - user_email: ada@exmple.com\n    max_budget: 1\n",
     "budgets.yaml:2: users[0].user_email: no user 'ada@exmple.com' (closest: 'ada@example.com')"),
    ("organizations:\n  - organization_id: acmee\n    max_budget: 1\n",
     "budgets.yaml:2: organizations[0].organization_id: no organization 'acmee' (closest: 'acme')"),
])
def test_an_unknown_entity_in_the_budgets_file_is_exit_2_naming_file_line_and_field(cli, db, people, tmp_path, text,
                                                                                 expected) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_text(text)
    result = cli("budget", "sync", "--no-resets", str(path))
    assert result.code == 2, result
    assert result.stderr.strip().endswith(expected), result


def test_an_ambiguous_name_in_the_budgets_file_is_exit_2_naming_both(cli, db, people, tmp_path) -> None:
    team(db, "research-2", team_alias="Research")
    user(db, "ada-2", user_email="Ada@Example.com")
    path = tmp_path / "budgets.yaml"
    path.write_text("teams:\n  - team_alias: Research\n    max_budget: 1\n"
                    "users:\n  - user_email: ada@example.com\n    max_budget: 1\n")
    result = cli("budget", "sync", "--no-resets", str(path))
    assert result.code == 2, result
    assert "budgets.yaml:2: teams[0].team_alias: 'Research' is the alias of 2 teams: research, research-2" \
        in result.stderr
    assert "budgets.yaml:5: users[0].user_email: 'ada@example.com' is the user email of 2 users: ada-2, ada-id" \
        in result.stderr


@pytest.mark.parametrize("args,named", [
    (["team", "add-member", "Reserch", "ada@example.com"], "team 'Reserch'"),
    (["org", "add-member", "acmee", "ada@example.com"], "organization 'acmee'"),
    (["user", "provision", "--email", "z@x.io", "--team", "Reserch"], "team 'Reserch'"),
    (["team", "provision", "--team-id", "x", "--org", "acmee"], "organization 'acmee'"),
])
def test_provisioning_flags_naming_nothing_offer_the_closest_names(cli, db, people, args, named) -> None:
    result = cli(*args)
    assert result.code == 2, result
    assert named in result.stderr and ("'Research'" in result.stderr or "'acme'" in result.stderr), result


@pytest.mark.parametrize("args", [["user", "list", "--team", "Reserch"], ["team", "list", "--org", "acmee"],
                                  ["team", "show", "Reserch"], ["org", "show", "acmee"], ["user", "show", "ada@exmple.com"],
                                  ["team", "remove-member", "Reserch", "ada-id"], ["key", "list", "--team", "Reserch"],
                                  ["key", "create", "--team", "Reserch"]])
def test_every_entity_flag_and_argument_naming_nothing_is_exit_2_with_the_closest(cli, people, args) -> None:
    result = cli(*args)
    assert result.code == 2, result
    first, hint = result.stderr.splitlines()[:2]
    assert first.startswith("dbctl: error: no ") and hint.startswith("dbctl: hint: closest: "), result


def test_a_budgets_file_problem_names_the_line_of_the_identity_field(cli, people, tmp_path) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_text("teams:\n  - max_budget: 1\n    team_alias: Reserch\n")
    result = cli("budget", "sync", "--no-resets", str(path))
    assert result.code == 2 and "budgets.yaml:3: teams[0].team_alias: no team 'Reserch'" in result.stderr, result
