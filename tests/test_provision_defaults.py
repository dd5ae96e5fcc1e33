"""The proxy's litellm_settings defaults (--proxy-config, LiteLLM_Config): applied to what dbctl
creates as /user/new, /team/member_add and /team/new apply them; never to what already exists."""

from __future__ import annotations

import json
from pathlib import Path

from fix_provision import fingerprint, write

CONFIG = """\
general_settings:
  master_key: sk-1234
litellm_settings:
  max_internal_user_budget: 50
  internal_user_budget_duration: 30d
  default_internal_user_params:
    models: [gpt-4o]
    max_budget: 10
    available_teams: [eng]
    teams: [eng]
  default_team_params:
    max_budget: 100
    budget_duration: 7d
    tpm_limit: 1000
    team_member_permissions: [/key/generate]
    models: [gpt-4o-mini]
"""
ORG_DEFAULT = "    organization_id: acme\n"  # default_team_params.organization_id, line 17 of CONFIG + ORG_DEFAULT


def user(db, email: str) -> dict:
    return db.query('SELECT * FROM "LiteLLM_UserTable" WHERE user_email = %s', [email])[0]


def test_new_users_and_teams_get_the_proxy_defaults(cli, db, tmp_path) -> None:
    config = write(tmp_path, CONFIG, "config.yaml")
    spec = write(tmp_path, """\
teams:
  - team_id: eng
    rpm_limit: 5
  - team_id: ops
    max_budget: 3
users:
  - user_email: plain@example.com
  - user_email: internal@example.com
    user_role: internal_user
  - user_email: admin@example.com
    user_role: proxy_admin
  - user_email: own@example.com
    models: []
    max_budget: 1
""")
    result = cli("provision", "apply", spec, "--proxy-config", config)
    assert result.code == 0, result
    assert "default_team_params.models" in result.stderr  # /team/new does not apply it: reported, not dropped
    assert "team_member_permissions" not in result.stderr

    plain = user(db, "plain@example.com")
    assert (plain["models"], plain["max_budget"], plain["budget_duration"]) == (["gpt-4o"], 10, None)
    internal = user(db, "internal@example.com")  # /user/new: the internal_user globals after the params
    assert (internal["max_budget"], internal["budget_duration"]) == (10, "30d")
    assert internal["budget_reset_at"] is not None
    admin = user(db, "admin@example.com")  # proxy_admin gets none of default_internal_user_params
    assert (admin["models"], admin["max_budget"]) == ([], None)
    own = user(db, "own@example.com")  # what the spec names wins, even an empty list
    assert (own["models"], own["max_budget"]) == ([], 1)

    teams = {r["team_id"]: r for r in db.query('SELECT * FROM "LiteLLM_TeamTable"')}
    assert (teams["eng"]["max_budget"], teams["eng"]["budget_duration"], teams["eng"]["tpm_limit"],
            teams["eng"]["rpm_limit"]) == (100, "7d", 1000, 5)
    assert teams["eng"]["budget_reset_at"] is not None
    assert teams["eng"]["team_member_permissions"] == ["/key/generate"]
    assert teams["eng"]["models"] == []
    assert teams["ops"]["max_budget"] == 3
    # default_internal_user_params.teams: every new user the spec gives no team joins eng as `user`
    roster = {m["user_email"]: m["role"] for m in teams["eng"]["members_with_roles"]}
    assert roster == dict.fromkeys(("plain@example.com", "internal@example.com", "admin@example.com", "own@example.com"), "user")
    assert plain["teams"] == ["eng"]
    assert db.value('SELECT count(*) FROM "LiteLLM_TeamMembership" WHERE team_id = %s', ["eng"]) == 4

    before = fingerprint(db)
    again = cli("provision", "apply", spec, "--proxy-config", config)
    assert again.code == 0 and "0 changed" in again.stdout, again
    assert fingerprint(db) == before


def test_defaults_never_touch_existing_rows(cli, db, tmp_path) -> None:
    assert cli("user", "provision", "--email", "old@example.com").code == 0
    assert cli("team", "provision", "--team-id", "eng").code == 0
    assert cli("org", "provision", "--org-id", "acme", "--alias", "Acme").code == 0
    before = fingerprint(db)
    config = write(tmp_path, CONFIG + ORG_DEFAULT, "config.yaml")
    assert cli("user", "provision", "--email", "old@example.com", "--proxy-config", config).code == 0
    assert cli("team", "provision", "--team-id", "eng", "--proxy-config", config).code == 0
    assert fingerprint(db) == before
    eng = db.query('SELECT * FROM "LiteLLM_TeamTable" WHERE team_id = %s', ["eng"])[0]
    assert (eng["organization_id"], eng["team_member_permissions"], eng["max_budget"]) == (None, [], None)


def test_a_new_team_gets_the_default_permissions_and_organization(cli, db, tmp_path) -> None:
    """/team/new: team_member_permissions and organization_id from default_team_params when the request
    leaves them out; an organization the spec names wins, and one named null or [] stays as written."""
    config = write(tmp_path, CONFIG + ORG_DEFAULT, "config.yaml")
    spec = write(tmp_path, """\
organizations:
  - organization_id: acme
    organization_alias: Acme
  - organization_id: labs
    organization_alias: Labs
teams:
  - team_id: eng
  - team_id: ops
    organization_id: Labs
    team_member_permissions: [/key/list, /key/info]
  - team_id: solo
    organization_id: null
    team_member_permissions: []
""")
    result = cli("provision", "apply", spec, "--proxy-config", config)
    assert result.code == 0, result
    teams = {r["team_id"]: r for r in db.query('SELECT * FROM "LiteLLM_TeamTable"')}
    assert (teams["eng"]["organization_id"], teams["eng"]["team_member_permissions"]) == ("acme", ["/key/generate"])
    assert (teams["ops"]["organization_id"], teams["ops"]["team_member_permissions"]) == \
        ("labs", ["/key/list", "/key/info"])
    assert (teams["solo"]["organization_id"], teams["solo"]["team_member_permissions"]) == (None, [])
    created = db.value("""SELECT updated_values FROM "LiteLLM_AuditLog"
                          WHERE table_name = 'LiteLLM_TeamTable' AND object_id = 'eng'""")
    assert (created["organization_id"], created["team_member_permissions"]) == ("acme", ["/key/generate"])

    before = fingerprint(db)
    again = cli("provision", "apply", spec, "--proxy-config", config)
    assert again.code == 0 and "0 changed" in again.stdout, again
    assert fingerprint(db) == before
    granted = write(tmp_path, Path(spec).read_text().replace("team_member_permissions: []",
                                                             "team_member_permissions: [/key/list]"), "granted.yaml")
    assert cli("provision", "apply", granted, "--proxy-config", config).code == 0  # the spec's field updates a team
    assert db.value('SELECT team_member_permissions FROM "LiteLLM_TeamTable" WHERE team_id = %s', ["solo"]) == \
        ["/key/list"]

    flags = cli("team", "provision", "--team-id", "cli", "--proxy-config", config)  # the organization in the db
    assert flags.code == 0, flags
    row = db.query('SELECT * FROM "LiteLLM_TeamTable" WHERE team_id = %s', ["cli"])[0]
    assert (row["organization_id"], row["team_member_permissions"]) == ("acme", ["/key/generate"])


def test_an_unknown_default_organization_names_where_it_is_set_and_changes_nothing(cli, db, tmp_path) -> None:
    config = write(tmp_path, CONFIG + ORG_DEFAULT, "config.yaml")
    spec = write(tmp_path, "teams:\n  - team_id: eng\n")
    assert cli("org", "provision", "--org-id", "org-1", "--alias", "acme").code == 0  # an alias is not an id
    before = fingerprint(db)
    for args in (("provision", "apply", spec), ("team", "provision", "--team-id", "eng")):
        result = cli(*args, "--proxy-config", config)
        assert result.code == 2, result
        assert f"{config}:17: litellm_settings.default_team_params.organization_id: organization_id 'acme' " \
               "exists neither in the file nor in the database ('acme' is the alias of 'org-1': give its " \
               "organization_id)" in result.stderr
        assert fingerprint(db) == before
    named = cli("team", "provision", "--team-id", "eng", "--org", "org-1", "--proxy-config", config)
    assert named.code == 0, named  # a team naming its organization never needs the default

    db.execute("""INSERT INTO "LiteLLM_Config" (param_name, param_value) VALUES ('litellm_settings', %s)""",
               [json.dumps({"default_team_params": {"organization_id": "gone"}})])
    before = fingerprint(db)
    stored = cli("team", "provision", "--team-id", "ops")
    assert stored.code == 2, stored
    assert "LiteLLM_Config: litellm_settings.default_team_params.organization_id: organization_id 'gone' " \
           "exists neither in the file nor in the database" in stored.stderr
    assert fingerprint(db) == before


def test_a_member_created_by_add_member_gets_member_defaults(cli, db, tmp_path) -> None:
    config = write(tmp_path, CONFIG, "config.yaml")
    assert cli("team", "provision", "--team-id", "eng").code == 0
    result = cli("team", "add-member", "eng", "new@example.com", "--proxy-config", config)
    assert result.code == 0, result
    member = user(db, "new@example.com")  # get_new_internal_user_defaults: params, else the globals
    assert (member["user_role"], member["models"], member["max_budget"], member["budget_duration"]) == \
        ("internal_user", ["gpt-4o"], 10, "30d")


def test_the_database_copy_is_used_and_overrides_the_file_when_the_proxy_reads_it(cli, db, tmp_path) -> None:
    db.execute("""INSERT INTO "LiteLLM_Config" (param_name, param_value) VALUES ('litellm_settings', %s)""",
               [json.dumps({"default_internal_user_params": {"max_budget": 7}})])
    assert cli("user", "provision", "--email", "db@example.com").code == 0
    assert user(db, "db@example.com")["max_budget"] == 7

    reads_db = write(tmp_path, CONFIG.replace("master_key: sk-1234", "store_model_in_db: true"), "db.yaml")
    assert cli("user", "provision", "--email", "both@example.com", "--proxy-config", reads_db).code == 0
    both = user(db, "both@example.com")  # the database's default_internal_user_params replaces the file's
    assert (both["max_budget"], both["models"]) == (7, [])

    assert cli("team", "provision", "--team-id", "eng").code == 0
    file_only = write(tmp_path, CONFIG, "file.yaml")  # no store_model_in_db: that proxy ignores the copy
    assert cli("user", "provision", "--email", "file@example.com", "--proxy-config", file_only).code == 0
    assert user(db, "file@example.com")["max_budget"] == 10


def test_bad_proxy_settings_name_file_line_and_key_and_change_nothing(cli, db, tmp_path) -> None:
    config = write(tmp_path, CONFIG.replace("max_budget: 10", "max_budget: lots")
                   .replace("budget_duration: 7d", "budget_duration: 2mo"), "config.yaml")
    before = fingerprint(db)
    result = cli("user", "provision", "--email", "x@example.com", "--proxy-config", config)
    assert result.code == 2, result
    assert f"{config}:8: litellm_settings.default_internal_user_params.max_budget: expected a number" in result.stderr
    assert f"{config}:13: litellm_settings.default_team_params.budget_duration" in result.stderr
    assert fingerprint(db) == before

    missing = cli("user", "provision", "--email", "x@example.com", "--proxy-config", str(tmp_path / "nope.yaml"))
    assert missing.code == 2 and "no such file" in missing.stderr and missing.stderr.count("\n") == 1, missing


def test_a_nan_or_infinite_proxy_default_is_a_bad_setting(cli, db, tmp_path) -> None:
    config = write(tmp_path, CONFIG.replace("max_budget: 10", "max_budget: .nan")
                   .replace("max_internal_user_budget: 50", "max_internal_user_budget: .inf"), "config.yaml")
    before = fingerprint(db)
    result = cli("user", "provision", "--email", "x@example.com", "--proxy-config", config)
    assert result.code == 2, result
    assert f"{config}:4: litellm_settings.max_internal_user_budget: must be a finite number, not inf" in result.stderr
    assert f"{config}:8: litellm_settings.default_internal_user_params.max_budget: must be a finite number, " \
           "not nan" in result.stderr, result
    assert fingerprint(db) == before


def test_default_teams_skip_users_with_teams_and_name_a_missing_team(cli, db, tmp_path) -> None:
    config = write(tmp_path, CONFIG.replace("teams: [eng]", "teams: [eng, {team_id: lab, user_role: admin}]"),
                   "config.yaml")
    before = fingerprint(db)
    missing = cli("user", "provision", "--email", "a@example.com", "--proxy-config", config)
    assert missing.code == 2, missing
    assert "proxy settings: litellm_settings.default_internal_user_params.teams[0]: team 'eng' exists neither" \
        in missing.stderr
    assert fingerprint(db) == before

    assert cli("team", "provision", "--team-id", "eng").code == 0
    assert cli("team", "provision", "--team-id", "lab").code == 0
    assert cli("team", "provision", "--team-id", "own").code == 0
    assert cli("user", "provision", "--email", "a@example.com", "--proxy-config", config).code == 0
    assert cli("user", "provision", "--email", "b@example.com", "--team", "own", "--proxy-config", config).code == 0
    rows = db.query('SELECT u.user_email, m.team_id FROM "LiteLLM_TeamMembership" m '
                    'JOIN "LiteLLM_UserTable" u USING (user_id) ORDER BY 1, 2')
    assert [(r["user_email"], r["team_id"]) for r in rows] == \
        [("a@example.com", "eng"), ("a@example.com", "lab"), ("b@example.com", "own")]
    lab = db.value('SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = %s', ["lab"])
    assert [m["role"] for m in lab] == ["admin"]


def test_os_environ_references_are_read_from_dbctls_environment(cli, db, tmp_path, monkeypatch) -> None:
    """LiteLLM resolves `os.environ/NAME` in its config at start-up; dbctl reads its own environment."""
    config = write(tmp_path, """\
litellm_settings:
  max_internal_user_budget: os.environ/DBCTL_T_BUDGET
  internal_user_budget_duration: os.environ/DBCTL_T_DURATION
  default_internal_user_params:
    metadata: {cost_center: os.environ/DBCTL_T_CENTER}
    teams: [{team_id: os.environ/DBCTL_T_TEAM, max_budget_in_team: os.environ/DBCTL_T_IN_TEAM}]
  default_team_params:
    tpm_limit: os.environ/DBCTL_T_TPM
    budget_duration: os.environ/DBCTL_T_DURATION
""", "config.yaml")
    monkeypatch.setenv("DBCTL_T_BUDGET", "42.5")
    monkeypatch.setenv("DBCTL_T_DURATION", "7d")
    monkeypatch.setenv("DBCTL_T_CENTER", "cc-9931")
    monkeypatch.setenv("DBCTL_T_TEAM", "eng")
    monkeypatch.setenv("DBCTL_T_IN_TEAM", "3")
    monkeypatch.setenv("DBCTL_T_TPM", "2500")
    spec = write(tmp_path, """\
teams:
  - team_id: eng
users:
  - user_email: env@example.com
    user_role: internal_user
""")
    assert cli("provision", "validate", spec, "--proxy-config", config).code == 0
    result = cli("provision", "apply", spec, "--proxy-config", config)
    assert result.code == 0, result
    assert "42.5" not in result.stdout + result.stderr and "cc-9931" not in result.stdout + result.stderr

    created = user(db, "env@example.com")
    assert (created["max_budget"], created["budget_duration"], created["metadata"]) == \
        (42.5, "7d", {"cost_center": "cc-9931", "dbctl_managed": True})  # marked: made from a spec
    assert created["teams"] == ["eng"]
    team = db.query('SELECT * FROM "LiteLLM_TeamTable" WHERE team_id = %s', ["eng"])[0]
    assert (team["tpm_limit"], team["budget_duration"]) == (2500, "7d")
    assert team["budget_reset_at"] is not None
    assert db.value('SELECT b.max_budget FROM "LiteLLM_TeamMembership" m JOIN "LiteLLM_BudgetTable" b '
                    'USING (budget_id) WHERE m.team_id = %s', ["eng"]) == 3


def test_an_unset_or_bad_variable_is_a_bad_setting_that_never_shows_its_value(cli, db, tmp_path,
                                                                             monkeypatch) -> None:
    config = write(tmp_path, CONFIG.replace("max_budget: 10\n", "max_budget: os.environ/DBCTL_T_UNSET\n")
                   .replace("budget_duration: 7d", "budget_duration: os.environ/DBCTL_T_DURATION")
                   .replace("tpm_limit: 1000", "tpm_limit: os.environ/DBCTL_T_TPM"), "config.yaml")
    monkeypatch.delenv("DBCTL_T_UNSET", raising=False)
    monkeypatch.setenv("DBCTL_T_DURATION", "s3cr3t-duration")
    monkeypatch.setenv("DBCTL_T_TPM", "s3cr3t-tpm")
    before = fingerprint(db)
    result = cli("user", "provision", "--email", "x@example.com", "--proxy-config", config)
    assert result.code == 2, result
    assert f"{config}:8: litellm_settings.default_internal_user_params.max_budget: os.environ/DBCTL_T_UNSET: " \
           "environment variable 'DBCTL_T_UNSET' is not set" in result.stderr
    assert f"{config}:13: litellm_settings.default_team_params.budget_duration: " \
           "invalid duration os.environ/DBCTL_T_DURATION" in result.stderr
    assert f"{config}:14: litellm_settings.default_team_params.tpm_limit: " \
           "expected a whole number, got str os.environ/DBCTL_T_TPM" in result.stderr
    assert "s3cr3t" not in result.stdout + result.stderr
    assert fingerprint(db) == before

    spec = write(tmp_path, "users:\n  - user_email: x@example.com\n")
    checked = cli("provision", "validate", spec, "--proxy-config", config, env={"DBCTL_T_UNSET": "5"})
    assert checked.code == 2 and "DBCTL_T_UNSET" not in checked.stderr, checked  # set through the runner's env
    assert "s3cr3t" not in checked.stdout + checked.stderr


def test_the_database_copy_resolves_references_too(cli, db, monkeypatch) -> None:
    db.execute("""INSERT INTO "LiteLLM_Config" (param_name, param_value) VALUES ('litellm_settings', %s)""",
               [json.dumps({"default_internal_user_params": {"max_budget": "os.environ/DBCTL_T_DB_BUDGET"}})])
    monkeypatch.delenv("DBCTL_T_DB_BUDGET", raising=False)
    unset = cli("user", "provision", "--email", "db@example.com")
    assert unset.code == 2, unset
    assert "LiteLLM_Config: litellm_settings.default_internal_user_params.max_budget: " \
           "os.environ/DBCTL_T_DB_BUDGET: environment variable 'DBCTL_T_DB_BUDGET' is not set" in unset.stderr
    monkeypatch.setenv("DBCTL_T_DB_BUDGET", "9")
    assert cli("user", "provision", "--email", "db@example.com").code == 0
    assert user(db, "db@example.com")["max_budget"] == 9


def test_validate_checks_the_proxy_default_teams(cli, db, tmp_path) -> None:
    config = write(tmp_path, CONFIG.replace("teams: [eng]", "teams: [eng, lab]"), "config.yaml")
    spec = write(tmp_path, """\
teams:
  - team_id: eng
users:
  - user_email: new@example.com
  - user_email: other@example.com
""")
    missing = cli("provision", "validate", spec, "--proxy-config", config)
    assert missing.code == 2, missing
    assert "proxy settings: litellm_settings.default_internal_user_params.teams[1]: team 'lab' exists neither" \
        in missing.stderr
    assert "'eng'" not in missing.stderr  # declared in the spec
    assert missing.stderr.count("'lab'") == 1  # once, not once per user

    assert cli("team", "provision", "--team-id", "lab").code == 0
    before = fingerprint(db)
    valid = cli("provision", "validate", spec, "--proxy-config", config)
    assert valid.code == 0 and f"{spec}: valid" in valid.stdout, valid
    assert fingerprint(db) == before


def test_validate_checks_the_default_organization(cli, db, tmp_path) -> None:
    config = write(tmp_path, CONFIG + ORG_DEFAULT, "config.yaml")
    spec = write(tmp_path, "teams:\n  - team_id: eng\n")
    missing = cli("provision", "validate", spec, "--proxy-config", config)
    assert missing.code == 2, missing
    assert f"{config}:17: litellm_settings.default_team_params.organization_id: organization_id 'acme' " \
           "exists neither in the file nor in the database" in missing.stderr

    declared = write(tmp_path, "organizations:\n  - {organization_id: acme, organization_alias: Acme}\n"
                               "teams:\n  - team_id: eng\n", "declared.yaml")
    assert cli("provision", "validate", declared, "--proxy-config", config).code == 0  # created by the same file

    assert cli("org", "provision", "--org-id", "acme", "--alias", "Acme").code == 0
    before = fingerprint(db)
    valid = cli("provision", "validate", spec, "--proxy-config", config)
    assert valid.code == 0 and f"{spec}: valid" in valid.stdout, valid
    assert fingerprint(db) == before
