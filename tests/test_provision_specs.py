"""Spec validation: every kind of bad spec is listed with file:line and field, exit 2, nothing written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from dbpool import Dropper
from fix_provision import counts, write
from helpers import CliResult, Database, database_url, invoke
from hypothesis import given, settings
from hypothesis import strategies as st

from litellm_dbctl.common import yamldoc
from litellm_dbctl.common.errors import InvalidSpec
from litellm_dbctl.provision import spec_fields, specs

BAD = {
    "unknown section": ("widgets:\n  - widget_id: b\n", "spec.yaml:1: widgets: unknown section"),
    "unknown key": ("users:\n  - user_id: u\n    colour: blue\n", "spec.yaml:3: users[0].colour: unknown field"),
    "wrong type": ("teams:\n  - team_id: t\n    max_budget: lots\n", "spec.yaml:3: teams[0].max_budget: expected a number"),
    "unquoted number id": ("users:\n  - user_id: 1234\n", "spec.yaml:2: users[0].user_id: expected a string"),
    "list expected": ("teams:\n  - team_id: t\n    models: gpt-4o\n", "spec.yaml:3: teams[0].models: expected a list"),
    "bad email": ("users:\n  - user_email: not-an-email\n", "spec.yaml:2: users[0].user_email: not an email"),
    "bad duration": ("users:\n  - user_id: u\n    budget_duration: 2mo\n",
                     "spec.yaml:3: users[0].budget_duration: invalid duration '2mo'"),
    "duration without unit": ("teams:\n  - team_id: t\n    budget_duration: '30'\n",
                              "spec.yaml:3: teams[0].budget_duration: invalid duration '30'"),
    "unknown user role": ("users:\n  - user_id: u\n    user_role: wizard\n",
                          "spec.yaml:3: users[0].user_role: unknown role 'wizard'"),
    "unknown team role": ("teams:\n  - team_id: t\n    members_with_roles:\n      - user_id: u\n        role: owner\n",
                          "spec.yaml:5: teams[0].members_with_roles[0].role: unknown role 'owner'"),
    "unknown role in a ref": ("teams:\n  - team_id: t\nusers:\n  - user_id: u\n    teams: ['t:boss']\n",
                              "spec.yaml:5: users[0].teams[0]: unknown role 'boss'"),
    "duplicate user": ("users:\n  - user_id: u\n  - user_id: u\n", "spec.yaml:3: users[1]: duplicate user_id 'u'"),
    "duplicate email": ("users:\n  - user_email: a@example.com\n  - user_email: A@example.com\n",
                        "spec.yaml:3: users[1]: duplicate user_email"),
    "duplicate team": ("teams:\n  - team_id: t\n  - team_id: t\n",
                       "spec.yaml:3: teams[1].team_id: duplicate team_id 't' (first at spec.yaml:2)"),
    "duplicate key alias": ("keys:\n  - key_alias: k\n    user_id: u\n  - key_alias: k\n    user_id: u\n"
                            "users:\n  - user_id: u\n", "spec.yaml:4: keys[1].key_alias: duplicate key_alias 'k'"),
    "key given twice": ("users:\n  - user_id: u\n    user_id: v\n", "spec.yaml:3: users[0].user_id: given twice"),
    "missing identity": ("users:\n  - user_alias: nobody\n", "spec.yaml:2: users[0]: needs user_id, user_email or sso_user_id"),
    "bad custom key": ("keys:\n  - key_alias: k\n    key: abc\n", "spec.yaml:3: keys[0].key: a custom key must start"),
    "yaml syntax": ("users: [\n", "spec.yaml:2: not valid YAML/JSON"),
    "missing team": ("users:\n  - user_id: u\n    teams: [ghost]\n",
                     "spec.yaml:3: users[0].teams[0]: team 'ghost' exists neither in the file nor in the database"),
    "missing org": ("teams:\n  - team_id: t\n    organization_id: ghost-org\n",
                    "spec.yaml:3: teams[0].organization_id: organization 'ghost-org' exists neither"),
    "missing org of a member": ("users:\n  - user_id: u\n    organizations: [nowhere]\n",
                                "spec.yaml:3: users[0].organizations[0]: organization 'nowhere' exists neither"),
    "a list for a number": ("users:\n  - user_id: u\n    max_budget: [1]\n",
                            "spec.yaml:3: users[0].max_budget: expected a number, got a list\n"),
    "missing key team": ("users:\n  - user_id: u\nkeys:\n  - key_alias: k\n    user_id: u\n    team_id: ghost\n",
                         "spec.yaml:6: keys[0].team_id: team 'ghost' exists neither"),
    "missing key user": ("keys:\n  - key_alias: k\n    user_id: ghost\n",
                         "spec.yaml:3: keys[0].user_id: user 'ghost' exists neither"),
    "missing organization_id of a user": ("users:\n  - user_id: u\n    organization_id: nowhere\n",
                                            "spec.yaml:3: users[0].organization_id: organization 'nowhere' exists"),
    "missing team in a mapping": ("users:\n  - user_id: u\n    teams:\n      - {team_alias: ghost, role: admin}\n",
                                  "spec.yaml:4: users[0].teams[0]: team 'ghost' exists neither"),
    "missing second team": ("users:\n  - user_id: u\n    teams: [ok, ghost]\nteams:\n  - team_id: ok\n",
                                        "spec.yaml:3: users[0].teams[1]: team 'ghost' exists neither"),
    "org without alias": ("organizations:\n  - organization_id: o\n",
                          "spec.yaml:2: organizations[0]: organization_alias is required"),
    # Values PostgreSQL would refuse only after other statements ran: refused up front, exit 2.
    "NaN budget": ("teams:\n  - team_id: t\n    max_budget: .nan\n",
                   "spec.yaml:3: teams[0].max_budget: must be a finite number, not nan"),
    "infinite budget": ("users:\n  - user_id: u\n    max_budget: .inf\n",
                        "spec.yaml:3: users[0].max_budget: must be a finite number, not inf"),
    "budget past a double": ("organizations:\n  - organization_alias: o\n    max_budget: 1.0e+309\n",
                             "spec.yaml:3: organizations[0].max_budget: must be a finite number, not inf"),
    "integer budget past a double": ("keys:\n  - key_alias: k\n    max_budget: 1" + "0" * 400 + "\n",
                                     "spec.yaml:3: keys[0].max_budget: too large"),
    "NaN member budget": ("teams:\n  - team_id: t\n    team_member_budget: .NaN\n",
                          "spec.yaml:3: teams[0].team_member_budget: must be a finite number, not nan"),
    "NaN budget in a team": ("teams:\n  - team_id: t\n    members_with_roles:\n      - user_id: u\n"
                             "        max_budget_in_team: -.inf\n",
                             "spec.yaml:5: teams[0].members_with_roles[0].max_budget_in_team: must be a finite"),
    "limit past bigint": ("users:\n  - user_id: u\n    tpm_limit: 9223372036854775808\n",
                          "spec.yaml:3: users[0].tpm_limit: too large: at most 9223372036854775807"),
    "limit past integer": ("users:\n  - user_id: u\n    max_parallel_requests: 2147483648\n",
                           "spec.yaml:3: users[0].max_parallel_requests: too large: at most 2147483647"),
    "NaN in metadata": ("users:\n  - user_id: u\n    metadata: {cost: {cap: .nan}}\n",
                        "spec.yaml:3: users[0].metadata: cost.cap: must be a finite number, not nan"),
    "NUL in a name": ('users:\n  - user_id: u\n    user_alias: "a\\0b"\n',
                      "spec.yaml:3: users[0].user_alias: must not contain a NUL character"),
}


@pytest.fixture(scope="module")
def untouched_db(server_url: str, template: str, dropper: Dropper) -> Iterator[Database]:
    """One database for every rejected spec: each test checks it stays as it was."""
    name = f"dbctl_s_{uuid.uuid4().hex[:12]}"
    admin = Database(server_url)
    admin.create(name, template=template)
    yield Database(database_url(server_url, name), name=name)
    dropper.drop(name)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_spec_is_rejected_with_file_line_and_field(untouched_db, tmp_path, case) -> None:
    text, expected = BAD[case]
    path = write(tmp_path, text)
    before = counts(untouched_db)
    result: CliResult = invoke(["--database-url", untouched_db.url, "provision", "apply", path])
    assert result.code == 2, result
    assert expected.replace("spec.yaml", path) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert counts(untouched_db) == before


def test_every_problem_is_listed_at_once(cli, db, tmp_path) -> None:
    text = ("teams:\n  - team_id: t\n    max_budget: -1\n    organization_id: ghost\n"
            "users:\n  - user_email: bad\n    user_role: wizard\n    teams: [nope]\n  - user_id: v\n    tpm_limit: 1.5\n")
    result = cli("provision", "apply", write(tmp_path, text))
    assert result.code == 2
    assert "problems" in result.stderr
    for fragment in (":4: teams[0].organization_id: organization 'ghost'", ":3: teams[0].max_budget",
                     ":6: users[0].user_email", ":7: users[0].user_role", ":8: users[0].teams[0]: team 'nope'",
                     ":10: users[1].tpm_limit"):
        assert fragment in result.stderr, result.stderr  # the file's and the database's problems together
    assert "spec.yaml: 6 problems" in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("  ")]) == 6


def test_references_to_rows_in_the_database_are_accepted(cli, db, tmp_path) -> None:
    db.execute("""INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias) VALUES ('t-db', 'from-db')""")
    path = write(tmp_path, "users:\n  - user_id: u\n    teams: [from-db]\n")
    assert cli("provision", "validate", path).code == 0
    assert cli("provision", "apply", path).code == 0
    assert db.value("""SELECT teams FROM "LiteLLM_UserTable" """) == ["t-db"]
    db.execute("""INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias) VALUES ('t-db2', 'from-db')""")
    ambiguous = cli("provision", "validate", path)
    assert ambiguous.code == 2 and "alias 'from-db' matches 2 teams in the database (t-db, t-db2)" in ambiguous.stderr


def test_litellm_as_code_spec_loads_unchanged(tmp_path) -> None:
    text = """\
config:
  general_settings: {}
organizations:
  - organization_id: "org-acme"
    organization_alias: "acme"
    max_budget: 500.0
    budget_duration: "30d"
    members_with_roles:
      - user_id: "username-admin"
        role: "org_admin"
users:
  - user_id: "username-admin"
    user_alias: "admin"
    user_email: "admin@example.com"
    user_role: "proxy_admin"
    auto_create_key: "false"
teams:
  - team_id: "team-prod"
    team_alias: "production"
    organization_id: "org-acme"
    max_budget: 100.0
    budget_duration: "30d"
    models: ["myorg/chat"]
    members_with_roles:
      - user_id: "username-service"
        role: "user"
virtual_keys:
  - key_alias: "admin-cli"
    key: "sk-my-static-key-0001"
    user_id: "username-admin"
    team_id: "team-prod"
    models: ["myorg/chat"]
    max_budget: 10.0
    budget_duration: "30d"
    allowed_routes: ["chat_completion"]
"""
    spec = specs.load(write(tmp_path, text))
    assert [o.organization_id for o in spec.organizations] == ["org-acme"]
    assert [k.key_alias for k in spec.keys] == ["admin-cli"]
    assert {u.user_id for u in spec.users} == {"username-admin", "username-service"}
    assert {(m.kind, m.target, m.role) for m in spec.memberships} == {
        ("org", "org-acme", "org_admin"), ("team", "team-prod", "user")}


names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(str.strip)


@settings(max_examples=60, deadline=None)
@given(alias=names, budget=st.floats(min_value=0, max_value=1e9, allow_nan=False),
       role=st.sampled_from(spec_fields.USER_ROLES), duration=st.sampled_from(["30s", "15m", "1h", "24h", "1d", "7d", "1w",
                                                                         "30d", "1mo", "daily", "Weekly", "monthly"]))
def test_valid_users_round_trip_through_yaml(alias, budget, role, duration) -> None:
    import yaml

    text = yaml.safe_dump({"users": [{"user_id": "u", "user_alias": alias, "max_budget": budget, "user_role": role,
                                      "budget_duration": duration}]}, allow_unicode=True)
    user = specs.from_text(text, "spec.yaml").users[0]
    assert dict(user.fields) == {"user_alias": alias, "max_budget": budget, "user_role": role,
                                 "budget_duration": duration}


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(role=st.text(min_size=1, max_size=20).filter(lambda r: r not in spec_fields.USER_ROLES))
def test_any_other_role_is_rejected(role) -> None:
    import yaml

    text = yaml.safe_dump({"users": [{"user_id": "u", "user_role": role}]}, allow_unicode=True)
    with pytest.raises(InvalidSpec) as raised:
        specs.from_text(text, "spec.yaml")
    assert "users[0].user_role" in raised.value.message


_TRICKY = st.sampled_from(["yes", "No", "on", "OFF", "true", "t", "teams", "1", "-1", "1.5", "1_000", "0x1F", "0o17",
                           ".inf", "~", "null", "", "2026-01-01", "2026-01-01 10:00:00", "Zoë", "a:b", "x #y"])
_SCALARS = st.one_of(_TRICKY, st.booleans(), st.integers(), st.none(),
                     st.floats(allow_nan=False), st.text(max_size=8))
_DOCS = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(_TRICKY | st.text(max_size=6), inner,
                                                                       max_size=4)), max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(doc=_DOCS, flow=st.booleans())
def test_yaml_values_are_what_pyyaml_safe_load_reads(doc, flow) -> None:
    """The event composer (plain scalars resolved once per distinct text) reads any document as
    PyYAML's safe loader does: the same values, types included."""
    import yaml

    text = yaml.safe_dump(doc, allow_unicode=True, default_flow_style=flow)
    expected = yaml.safe_load(text)
    got = yamldoc.plain(yamldoc.parse(text, "spec.yaml"))
    assert got == expected
    assert repr(got) == repr(expected)  # types too: True is not 1, 1.0 is not 1


def test_flag_references_name_the_flag_or_argument(cli, db) -> None:
    added = cli("team", "add-member", "ghost", "ada@example.com")
    assert (added.code, added.stderr) == (2, "dbctl: error: TEAM: team 'ghost' does not exist\n"), added
    joined = cli("user", "provision", "--user-id", "u", "--team", "ok", "--team", "ghost")
    assert joined.code == 2 and joined.stderr.count("\n") == 1, joined
    assert joined.stderr.endswith("--team: team 'ghost' does not exist\n"), joined
    assert db.value('SELECT count(*) FROM "LiteLLM_UserTable"') == 0


@pytest.mark.parametrize(("flags", "expected"), [
    (["user", "provision", "--user-id", "u", "--max-budget", "nan"], "--max-budget: must be a finite number, not nan"),
    (["user", "provision", "--user-id", "u", "--max-budget", "inf"], "--max-budget: must be a finite number, not inf"),
    (["team", "provision", "--team-id", "t", "--max-budget", "1e309"], "--max-budget: must be a finite number, not inf"),
    (["team", "provision", "--team-id", "t", "--soft-budget", "nan"], "--soft-budget: must be a finite number"),
    (["team", "provision", "--team-id", "t", "--team-member-budget", "nan"], "--team-member-budget: must be a finite number"),
    (["team", "provision", "--team-id", "t", "--tpm-limit", "9" * 30], "--tpm-limit: too large"),
    (["org", "provision", "--alias", "o", "--max-budget", "nan"], "--max-budget: must be a finite number"),
    (["org", "provision", "--alias", "o", "--rpm-limit", "9" * 20], "--rpm-limit: too large"),
    (["team", "add-member", "t", "ada@example.com", "--max-budget-in-team", "nan"],
     "--max-budget-in-team: must be a finite number, not nan"),
    (["key", "create", "--user", "u", "--max-budget", "inf"], "--max-budget: must be a finite number, not inf"),
    (["key", "create", "--user", "u", "--metadata", '{"cap": NaN}'], "--metadata: cap: must be a finite number"),
])
def test_a_bad_number_flag_is_one_line_naming_the_flag(untouched_db, flags, expected) -> None:
    before = counts(untouched_db)
    result = invoke(["--database-url", untouched_db.url, *flags])
    assert result.code == 2, result
    assert result.stderr == f"dbctl: error: {expected}" + result.stderr.split(expected, 1)[1], result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result
    assert counts(untouched_db) == before


def test_a_nan_in_a_users_csv_is_refused(untouched_db, tmp_path) -> None:
    path = write(tmp_path, "user_email,max_budget\nada@example.com,nan\n", "users.csv")
    result = invoke(["--database-url", untouched_db.url, "user", "provision", path])
    assert result.code == 2, result
    assert f"{path}:2: users[0].max_budget: must be a finite number, not nan" in result.stderr, result
