"""`dbctl provision apply`: the rows LiteLLM writes, idempotency, plans, chunks and audit."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from fix_provision import SPEC, counts, fingerprint, write
from helpers import ROOT


def test_apply_writes_what_litellm_writes(cli, db, tmp_path) -> None:
    result = cli("provision", "apply", write(tmp_path, SPEC))
    assert result.code == 0, result
    assert "created 12, updated 0" in result.stdout

    alice = db.query('SELECT * FROM "LiteLLM_UserTable" WHERE user_id = %s', ["alice"])[0]
    assert alice["teams"] == ["team-dev", "team-prod"] and alice["user_role"] == "proxy_admin"
    assert alice["models"] == [] and alice["metadata"] == {"dbctl_managed": True} and alice["spend"] == 0
    bob = db.query('SELECT * FROM "LiteLLM_UserTable" WHERE user_email = %s', ["Bob@Example.com"])[0]
    assert bob["user_role"] == "internal_user" and bob["teams"] == ["team-prod"]  # member defaults
    carol = db.query('SELECT * FROM "LiteLLM_UserTable" WHERE user_email = %s', ["carol@example.com"])[0]
    assert carol["user_role"] is None and carol["budget_duration"] == "1d"  # /user/new leaves the role NULL
    assert carol["budget_reset_at"] is not None

    team = db.query('SELECT * FROM "LiteLLM_TeamTable" WHERE team_id = %s', ["team-prod"])[0]
    assert team["organization_id"] == "org-acme" and team["admins"] == [] and team["members"] == []
    roster = {m["user_id"]: m for m in team["members_with_roles"]}
    assert set(roster) == {"alice", bob["user_id"], carol["user_id"]}
    assert roster["alice"] == {"user_id": "alice", "user_email": "alice@example.com", "role": "admin"}
    assert roster[bob["user_id"]]["role"] == "user"
    default_budget = team["metadata"]["team_member_budget_id"]
    assert db.value('SELECT max_budget FROM "LiteLLM_BudgetTable" WHERE budget_id = %s', [default_budget]) == 5

    memberships = {r["user_id"]: r for r in db.query(
        'SELECT m.*, b.max_budget FROM "LiteLLM_TeamMembership" m LEFT JOIN "LiteLLM_BudgetTable" b USING (budget_id) '
        "WHERE team_id = 'team-prod'")}
    assert memberships["alice"]["budget_id"] == default_budget  # LiteLLM reuses the team default
    assert memberships[bob["user_id"]]["max_budget"] == 7 and memberships[bob["user_id"]]["budget_id"] != default_budget

    org = db.query('SELECT o.*, b.max_budget, b.budget_duration, b.created_by AS b_created_by '
                   'FROM "LiteLLM_OrganizationTable" o JOIN "LiteLLM_BudgetTable" b USING (budget_id)')[0]
    assert (org["organization_alias"], org["max_budget"], org["created_by"], org["b_created_by"]) == \
        ("acme", 500, "dbctl", "dbctl")
    assert db.value('SELECT user_role FROM "LiteLLM_OrganizationMembership" WHERE user_id = %s', ["alice"]) == "org_admin"

    key = db.query('SELECT * FROM "LiteLLM_VerificationToken"')[0]
    raw = next(line.split("\t")[1] for line in result.stdout.splitlines() if line.startswith("admin-cli\t"))
    assert hashlib.sha256(raw.encode()).hexdigest() == key["token"]  # LiteLLM's authentication rule
    assert key["key_name"] == "sk-..." + raw[-4:] and key["team_id"] == "team-prod"
    assert (key["aliases"], key["config"], key["permissions"], key["metadata"]) == ({}, {}, {}, {"dbctl_managed": True})
    assert raw not in json.dumps(db.query('SELECT before_value, updated_values FROM "LiteLLM_AuditLog"'), default=str)


def test_second_apply_changes_nothing_and_writes_nothing(cli, db, tmp_path) -> None:
    path = write(tmp_path, SPEC)
    assert cli("provision", "apply", path).code == 0
    before = fingerprint(db)
    again = cli("provision", "apply", path)
    assert again.code == 0, again
    assert "0 changed" in again.stdout and "0 rows written" in again.stdout
    assert fingerprint(db) == before  # no row's xmin moved, no audit row added
    dry = cli("provision", "apply", path, "--dry-run")
    assert dry.code == 0 and "0 changed" in dry.stdout


def test_dry_run_reports_the_plan_and_writes_nothing(cli, db, tmp_path) -> None:
    before = counts(db)
    result = cli("provision", "apply", write(tmp_path, SPEC), "--dry-run", "--json")
    assert result.code == 3, result
    payload = result.json()
    assert payload["dry_run"] is True and payload["summary"]["create"] == 12 and payload["keys"] == []
    kinds = {(i["kind"], i["action"]) for i in payload["items"]}
    assert ("team_member", "create") in kinds and ("org_member", "create") in kinds
    assert counts(db) == before


def test_update_shows_old_and_new_and_writes_only_that(cli, db, tmp_path) -> None:
    assert cli("provision", "apply", write(tmp_path, SPEC)).code == 0
    changed = SPEC.replace("max_budget: 500", "max_budget: 600").replace("max_budget_in_team: 7", "max_budget_in_team: 9")
    path = write(tmp_path, changed, "changed.yaml")
    before = fingerprint(db)
    plan = cli("provision", "apply", path, "--dry-run", "--json")
    assert plan.code == 3
    updates = {i["kind"]: i["changes"] for i in plan.json()["items"] if i["action"] == "update"}
    assert updates == {"organization": [{"field": "max_budget", "old": 500.0, "new": 600.0}],
                       "team_member": [{"field": "max_budget_in_team", "old": 7.0, "new": 9.0}]}
    assert cli("provision", "apply", path).code == 0
    after = fingerprint(db)
    moved = {t: [k for k in after[t] if before[t].get(k) != after[t][k]] for t in after}
    assert len(moved["LiteLLM_BudgetTable"]) == 2  # the org's budget row and bob's member budget row
    assert moved["LiteLLM_UserTable"] == [] and moved["LiteLLM_TeamTable"] == []
    assert moved["LiteLLM_OrganizationTable"] == ["org-acme"]  # stamped updated_at/updated_by, as LiteLLM does
    assert moved["LiteLLM_TeamMembership"] == []
    assert len(moved["LiteLLM_AuditLog"]) == 2


def test_a_user_in_two_teams_and_an_org_is_recorded_everywhere(cli, db) -> None:
    assert cli("team", "provision", "--team-id", "t1").code == 0
    assert cli("team", "provision", "--team-id", "t2", "--alias", "second").code == 0
    assert cli("org", "provision", "--org-id", "o1", "--alias", "one").code == 0
    result = cli("user", "provision", "--user-id", "u1", "--email", "u1@example.com", "--team", "t1:admin",
                 "--team", "second", "--org", "one:org_admin")
    assert result.code == 0, result
    assert db.value("""SELECT teams FROM "LiteLLM_UserTable" WHERE user_id = 'u1'""") == ["t1", "t2"]
    rosters = {r["team_id"]: r["members_with_roles"] for r in db.query('SELECT * FROM "LiteLLM_TeamTable"')}
    assert rosters["t1"] == [{"user_id": "u1", "user_email": "u1@example.com", "role": "admin"}]
    assert rosters["t2"] == [{"user_id": "u1", "user_email": "u1@example.com", "role": "user"}]
    assert db.value('SELECT count(*) FROM "LiteLLM_TeamMembership" WHERE user_id = %s', ["u1"]) == 2
    assert db.value('SELECT user_role FROM "LiteLLM_OrganizationMembership" WHERE user_id = %s', ["u1"]) == "org_admin"
    shown = cli("user", "show", "u1@EXAMPLE.com", "--json").json()
    assert {(t["team_id"], t["role"]) for t in shown["teams"]} == {("t1", "admin"), ("t2", "user")}
    assert [o["organization_id"] for o in shown["organizations"]] == ["o1"]
    listed = cli("user", "list", "--team", "second", "--json").json()
    assert [u["user_id"] for u in listed] == ["u1"]


def test_removing_a_member_undoes_all_three_records(cli, db) -> None:
    assert cli("team", "provision", "--team-id", "t1", "--member", "ada@example.com:admin",
               "--member", "bo@example.com").code == 0
    ada = db.value("""SELECT user_id FROM "LiteLLM_UserTable" WHERE user_email = 'ada@example.com'""")
    result = cli("team", "remove-member", "t1", "ADA@example.com")
    assert result.code == 0, result
    assert "removed 1" in result.stdout
    assert [m["user_email"] for m in db.value("""SELECT members_with_roles FROM "LiteLLM_TeamTable" """)] == \
        ["bo@example.com"]
    assert db.value('SELECT teams FROM "LiteLLM_UserTable" WHERE user_id = %s', [ada]) == []
    assert db.value('SELECT count(*) FROM "LiteLLM_TeamMembership" WHERE user_id = %s', [ada]) == 0
    audit = db.query("""SELECT * FROM "LiteLLM_AuditLog" WHERE action = 'updated' AND table_name = 'LiteLLM_TeamTable'""")
    assert len(audit[-1]["before_value"]["members_with_roles"]) == 2
    assert len(audit[-1]["updated_values"]["members_with_roles"]) == 1
    before = fingerprint(db)
    again = cli("team", "remove-member", "t1", ada)
    assert again.code == 0 and "0 changed" in again.stdout and fingerprint(db) == before
    assert cli("team", "remove-member", "t1", "nobody@example.com").code == 2


def test_org_member_add_and_remove(cli, db) -> None:
    assert cli("org", "provision", "--alias", "acme", "--max-budget", "10").code == 0
    assert cli("org", "add-member", "acme", "ada@example.com", "--role", "org_admin").code == 0
    assert db.value('SELECT user_role FROM "LiteLLM_OrganizationMembership"') == "org_admin"
    assert cli("org", "show", "acme", "--json").json()["members"][0]["user_email"] == "ada@example.com"
    assert cli("org", "remove-member", "acme", "ada@example.com", "--dry-run").code == 3
    assert cli("org", "remove-member", "acme", "ada@example.com").code == 0
    assert db.value('SELECT count(*) FROM "LiteLLM_OrganizationMembership"') == 0


def _member_budget(db, user_email: str) -> str | None:
    return db.value('SELECT m.budget_id FROM "LiteLLM_TeamMembership" m JOIN "LiteLLM_UserTable" u USING (user_id) '
                    "WHERE u.user_email = %s", [user_email])


def _budget_exists(db, budget_id: str) -> bool:
    return bool(db.value('SELECT count(*) FROM "LiteLLM_BudgetTable" WHERE budget_id = %s', [budget_id]))


def test_removing_a_member_takes_its_own_budget_row_and_never_a_shared_one(cli, db) -> None:
    assert cli("team", "provision", "--team-id", "research", "--member-budget", "5").code == 0
    default = db.value("""SELECT metadata ->> 'team_member_budget_id' FROM "LiteLLM_TeamTable" """)
    for email, budget in (("carol@x.com", "25"), ("dan@x.com", None), ("erin@x.com", "30")):
        assert cli("team", "add-member", "research", email,
                   *(["--max-budget-in-team", budget] if budget else [])).code == 0
    own, keyed = _member_budget(db, "carol@x.com"), _member_budget(db, "erin@x.com")
    carol = db.value("""SELECT user_id FROM "LiteLLM_UserTable" WHERE user_email = 'carol@x.com'""")
    assert _member_budget(db, "dan@x.com") == default and len({own, keyed, default}) == 3
    db.execute("""INSERT INTO "LiteLLM_VerificationToken" (token, budget_id) VALUES ('t-erin', %s)""", [keyed])

    before = fingerprint(db)
    dry = cli("team", "remove-member", "research", "carol@x.com", "--dry-run", "--json")
    assert dry.code == 3, dry
    assert {"field": "LiteLLM_BudgetTable", "old": {"budget_id": own, "max_budget": 25.0}, "new": None} in \
        dry.json()["items"][0]["changes"]
    assert fingerprint(db) == before  # the dry run deleted nothing

    assert cli("team", "remove-member", "research", "carol@x.com").code == 0
    assert not _budget_exists(db, own)
    audit = db.query("""SELECT * FROM "LiteLLM_AuditLog"
                        WHERE action = 'deleted' AND table_name = 'LiteLLM_TeamMembership'""")
    assert [(a["object_id"], a["before_value"], a["updated_values"]) for a in audit] == \
        [(f"research:{carol}", {"budget_id": own, "max_budget_in_team": 25.0}, None)]

    for email, kept in (("dan@x.com", default), ("erin@x.com", keyed)):  # the team's default; a key's
        result = cli("team", "remove-member", "research", email, "--json")
        assert result.code == 0, result
        assert "LiteLLM_BudgetTable" not in {c["field"] for c in result.json()["items"][0]["changes"]}
        assert _budget_exists(db, kept)

    budgets = db.value('SELECT count(*) FROM "LiteLLM_BudgetTable"')
    for _ in range(2):  # an add/remove cycle leaves nothing behind
        assert cli("team", "add-member", "research", "carol@x.com", "--max-budget-in-team", "25").code == 0
        assert cli("team", "remove-member", "research", "carol@x.com").code == 0
    assert db.value('SELECT count(*) FROM "LiteLLM_BudgetTable"') == budgets


def test_a_budget_row_taken_after_the_plan_is_kept_at_delete_time(cli, db) -> None:
    from datetime import datetime, timezone

    from litellm_dbctl.db import config, database
    from litellm_dbctl.provision import apply, lookup, plan, remove

    assert cli("team", "provision", "--team-id", "research").code == 0
    assert cli("team", "add-member", "research", "carol@x.com", "--max-budget-in-team", "25").code == 0
    own = _member_budget(db, "carol@x.com")
    with database.connect(config.parse(db.url, "test"), command="test") as conn, \
            conn.transaction(force_rollback=True):
        team = lookup.find_group(conn, "team", "research")
        removal = remove.team_removal(conn, team, lookup.find_user(conn, "carol@x.com"), plan.Options(),
                                       datetime.now(timezone.utc))
        assert "budget_row/delete_unheld" in [s.query for s in removal.steps]
        conn.execute("""INSERT INTO "LiteLLM_VerificationToken" (token, budget_id) VALUES ('t-late', %s)""", [own])
        with pytest.raises(apply.StalePlan, match="delete_unheld"):
            apply.apply_plan(conn, removal, plan.Options())
        kept = conn.execute('SELECT count(*) FROM "LiteLLM_BudgetTable" WHERE budget_id = %s', [own]).fetchone()
        assert kept["count"] == 1


def test_removing_an_org_member_takes_its_own_budget_row(cli, db) -> None:
    assert cli("org", "provision", "--alias", "acme", "--max-budget", "10").code == 0
    org_budget = db.value('SELECT budget_id FROM "LiteLLM_OrganizationTable"')
    for email in ("ada@x.com", "bo@x.com"):
        assert cli("org", "add-member", "acme", email).code == 0
    # /organization/member_update's max_budget_in_organization: a budget row of the member's own
    db.execute("""INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, created_by, updated_by)
                  VALUES ('b-ada', 3, 'proxy', 'proxy')""")
    db.execute("""UPDATE "LiteLLM_OrganizationMembership" m SET budget_id = 'b-ada' FROM "LiteLLM_UserTable" u
                  WHERE u.user_id = m.user_id AND u.user_email = 'ada@x.com'""")
    db.execute("""UPDATE "LiteLLM_OrganizationMembership" m SET budget_id = %s FROM "LiteLLM_UserTable" u
                  WHERE u.user_id = m.user_id AND u.user_email = 'bo@x.com'""", [org_budget])
    before = fingerprint(db)
    dry = cli("org", "remove-member", "acme", "ada@x.com", "--dry-run", "--json")
    assert dry.code == 3 and fingerprint(db) == before
    assert {"field": "LiteLLM_BudgetTable", "old": {"budget_id": "b-ada", "max_budget": 3.0}, "new": None} in \
        dry.json()["items"][0]["changes"]
    assert cli("org", "remove-member", "acme", "ada@x.com").code == 0
    assert not _budget_exists(db, "b-ada")
    assert db.value("""SELECT before_value FROM "LiteLLM_AuditLog" WHERE action = 'deleted'""") == \
        {"user_role": "internal_user", "budget_id": "b-ada", "max_budget_in_organization": 3.0}
    assert cli("org", "remove-member", "acme", "bo@x.com").code == 0
    assert _budget_exists(db, org_budget)  # the organization's own budget


def test_email_case_variants_find_the_same_user(cli, db) -> None:
    db.execute("""INSERT INTO "LiteLLM_UserTable" (user_id, user_email) VALUES ('u-1', 'Ada.Lovelace@Example.COM')""")
    for variant in ("ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM", "Ada.Lovelace@example.com"):
        result = cli("user", "provision", "--email", variant, "--alias", "Ada")
        assert result.code == 0, result
    assert db.value('SELECT count(*) FROM "LiteLLM_UserTable"') == 1
    row = db.query('SELECT * FROM "LiteLLM_UserTable"')[0]
    assert (row["user_email"], row["user_alias"]) == ("Ada.Lovelace@Example.COM", "Ada")  # email kept as stored


def test_sso_id_finds_the_user(cli, db) -> None:
    db.execute("""INSERT INTO "LiteLLM_UserTable" (user_id, sso_user_id, user_email)
                  VALUES ('u-sso', 'okta|123', 'old@example.com')""")
    result = cli("user", "provision", "--sso-id", "okta|123", "--email", "new@example.com", "--role", "internal_user")
    assert result.code == 0, result
    row = db.query('SELECT * FROM "LiteLLM_UserTable"')[0]
    assert (row["user_id"], row["user_email"], row["user_role"]) == ("u-sso", "new@example.com", "internal_user")
    # Found by email, a user linked to another identity is not relinked; one with none is linked.
    before = fingerprint(db)
    moved = cli("user", "provision", "--sso-id", "okta|999", "--email", "NEW@example.com")
    assert moved.code == 2 and "--sso-id: user 'u-sso', found by its email, is linked to " \
        "sso_user_id 'okta|123'" in moved.stderr, moved
    assert fingerprint(db) == before
    assert cli("user", "provision", "--user-id", "u-sso", "--sso-id", "okta|999").code == 0  # by id: relinked
    db.execute("""INSERT INTO "LiteLLM_UserTable" (user_id, user_email) VALUES ('u-plain', 'plain@example.com')""")
    assert cli("user", "provision", "--sso-id", "okta|777", "--email", "plain@example.com").code == 0
    assert db.value("""SELECT sso_user_id FROM "LiteLLM_UserTable" WHERE user_id = 'u-plain'""") == "okta|777"


def test_an_email_shared_by_two_users_is_an_error_naming_them(cli, db) -> None:
    db.execute("""INSERT INTO "LiteLLM_UserTable" (user_id, user_email) VALUES
                  ('u-a', 'twin@example.com'), ('u-b', 'TWIN@example.com')""")
    result = cli("user", "provision", "--email", "twin@example.com", "--alias", "x")
    assert result.code == 2
    assert "u-a" in result.stderr and "u-b" in result.stderr
    assert db.value('SELECT count(*) FROM "LiteLLM_UserTable" WHERE user_alias IS NOT NULL') == 0


def test_users_file_formats(cli, db, tmp_path) -> None:
    assert cli("team", "provision", "--team-id", "t1").code == 0
    csv_path = write(tmp_path, "user_email,user_role,max_budget,models,teams\n"
                               "a@example.com,internal_user,5,gpt-4o;claude,t1:admin\n"
                               "b@example.com,,,,t1\n", "users.csv")
    assert cli("user", "provision", csv_path).code == 0
    row = db.query("""SELECT * FROM "LiteLLM_UserTable" WHERE user_email = 'a@example.com'""")[0]
    assert (row["max_budget"], row["models"], row["teams"]) == (5, ["gpt-4o", "claude"], ["t1"])
    json_path = write(tmp_path, json.dumps([{"user_email": "c@example.com", "teams": ["t1"]}]), "users.json")
    assert cli("user", "provision", json_path).code == 0
    yaml_text = "users:\n  - user_email: d@example.com\n"
    assert cli("user", "provision", "-", input=yaml_text).code == 0
    assert db.value('SELECT count(*) FROM "LiteLLM_UserTable"') == 4
    bad = write(tmp_path, "user_email,max_budget\nx@example.com,lots\n", "bad.csv")
    result = cli("user", "provision", bad)
    assert result.code == 2 and "bad.csv:2: users[0].max_budget" in result.stderr
    piped = cli("user", "provision", "-", input="user_email,max_budget\ne@example.com,1\n")
    assert piped.code == 2 and "(CSV: a .csv file name, or --format csv)" in piped.stderr, piped
    assert cli("user", "provision", "-", "--format", "csv",
               input="user_email,max_budget\ne@example.com,1\n").code == 0


def test_unicode_names_round_trip(cli, db, tmp_path) -> None:
    spec = ("teams:\n  - team_id: forschung\n    team_alias: \"Forschung & Entwicklung — 研究\"\n"
            "    members_with_roles:\n      - user_email: zoë@exämple.com\n        role: admin\n"
            "users:\n  - user_email: zoë@exämple.com\n    user_alias: Zoë Ølberg 🚀\n")
    path = write(tmp_path, spec)
    assert cli("provision", "apply", path).code == 0
    assert db.value('SELECT team_alias FROM "LiteLLM_TeamTable"') == "Forschung & Entwicklung — 研究"
    assert db.value('SELECT user_alias FROM "LiteLLM_UserTable"') == "Zoë Ølberg 🚀"
    before = fingerprint(db)
    assert "0 changed" in cli("provision", "apply", path).stdout and fingerprint(db) == before
    assert cli("team", "show", "Forschung & Entwicklung — 研究", "--json").json()["members"][0]["role"] == "admin"
    header, row = cli("user", "list").stdout.splitlines()[:2]  # a wide 🚀 keeps the next columns aligned
    assert _columns(header[:header.index("teams")]) == _columns(row[:row.index('["forschung"]')]), (header, row)


def _columns(text: str) -> int:
    """Terminal columns `text` takes (East Asian wide characters and emoji take two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_batches_are_reported_and_equal_one_transaction(cli, db, tmp_path) -> None:
    users = "".join(f"  - user_email: u{i}@example.com\n    teams: [t1]\n" for i in range(25))
    path = write(tmp_path, "teams:\n  - team_id: t1\nusers:\n" + users)
    result = cli("provision", "apply", path, "--batch-size", "10")
    assert result.code == 0, result
    assert result.stderr.count("chunk ") == 3 and "chunk 3/3: 5 users" in result.stderr
    assert len(db.value('SELECT members_with_roles FROM "LiteLLM_TeamTable"')) == 25
    assert db.value('SELECT count(*) FROM "LiteLLM_TeamMembership"') == 25
    before = fingerprint(db)
    again = cli("provision", "apply", path, "--batch-size", "10")
    assert again.code == 0 and "0 changed" in again.stdout and fingerprint(db) == before


def test_audit_rows_actor_and_no_audit(cli, db) -> None:
    assert cli("user", "provision", "--user-id", "u1", "--actor", "ops@example.com").code == 0
    row = db.query('SELECT * FROM "LiteLLM_AuditLog"')[0]
    assert (row["action"], row["table_name"], row["object_id"], row["changed_by"]) == \
        ("created", "LiteLLM_UserTable", "u1", "ops@example.com")
    assert row["before_value"] is None and row["updated_values"]["user_id"] == "u1"
    assert cli("user", "provision", "--user-id", "u1", "--alias", "U").code == 0
    update = db.query("""SELECT * FROM "LiteLLM_AuditLog" WHERE action = 'updated'""")[0]
    assert (update["before_value"], update["updated_values"], update["changed_by"]) == \
        ({"user_alias": None}, {"user_alias": "U"}, "dbctl")
    assert cli("user", "provision", "--user-id", "u2", "--no-audit").code == 0
    assert db.value('SELECT count(*) FROM "LiteLLM_AuditLog"') == 2


# Facts copied from LiteLLM (BerriAI/litellm), the vocabulary its own audit writers are typed with:
# `AUDIT_ACTIONS` and `LitellmTableNames` in litellm/proxy/_types.py (newest stored version; older
# versions had fewer values: no "unblocked", PROXY_MODEL_TABLE_NAME = "LiteLLM_ModelTable").
LITELLM_AUDIT_ACTIONS = frozenset({"created", "updated", "deleted", "blocked", "unblocked", "rotated"})
LITELLM_TABLE_NAMES = frozenset({
    "LiteLLM_TeamTable", "LiteLLM_UserTable", "LiteLLM_VerificationToken", "LiteLLM_ProxyModelTable",
    "LiteLLM_ManagedFileTable", "LiteLLM_ToolTable", "LiteLLM_CacheConfig", "LiteLLM_ConfigOverrides",
    "LiteLLM_Config", "LiteLLM_SSOConfig", "LiteLLM_UISettings"})
# No LiteLLM writer uses it, but its audit UI labels it "Organizations" and offers it as a filter
# (ui/litellm-dashboard/src/components/view_logs/audit_logs.tsx, TABLE_NAME_DISPLAY), and the newest
# GET /audit resolves its aliases (enterprise/litellm_enterprise/proxy/audit_logging_endpoints.py, _ORG_TABLE).
LITELLM_READER_TABLES = frozenset({"LiteLLM_OrganizationTable"})
# Written by dbctl only (LiteLLM audits no member budget and no organization membership). They read
# back because every LiteLLM reader types table_name and action as plain `str`
# (enterprise/litellm_enterprise/types/proxy/audit_logging_endpoints.py, AuditLogResponse); the UI
# shows an unknown table_name as is.
DBCTL_ONLY_TABLES = frozenset({"LiteLLM_TeamMembership", "LiteLLM_OrganizationMembership"})


def _read_back(row: dict) -> None:
    """What GET /audit and /audit/{id} do with a row: `AuditLogResponse(**row)`, in which id,
    changed_by, changed_by_api_key, action, table_name and object_id are required `str` and
    before_value / updated_values `Optional[Dict[str, Any]]`. One row failing it fails the whole page."""
    for column in ("id", "changed_by", "changed_by_api_key", "action", "table_name", "object_id"):
        assert isinstance(row[column], str), (column, row)
    for column in ("before_value", "updated_values"):
        assert row[column] is None or isinstance(row[column], dict), (column, row)


def test_every_audit_row_is_one_litellm_reads_back(cli, db, tmp_path) -> None:
    assert cli("provision", "apply", write(tmp_path, SPEC)).code == 0
    changed = SPEC.replace("max_budget: 500", "max_budget: 600").replace("team: 7", "team: 9")
    assert cli("provision", "apply", write(tmp_path, changed, "changed.yaml")).code == 0
    assert cli("org", "add-member", "acme", "alice", "--role", "internal_user").code == 0
    assert cli("user", "provision", "--user-id", "alice", "--alias", "Alice").code == 0
    assert cli("team", "remove-member", "production", "bob@example.com").code == 0
    assert cli("org", "remove-member", "acme", "alice").code == 0
    for command in ("block", "unblock", "delete"):
        assert cli("key", command, "admin-cli").code == 0

    rows = db.query('SELECT * FROM "LiteLLM_AuditLog"')
    for row in rows:
        _read_back(row)
    assert {r["action"] for r in rows} <= LITELLM_AUDIT_ACTIONS
    assert {r["table_name"] for r in rows} <= LITELLM_TABLE_NAMES | LITELLM_READER_TABLES | DBCTL_ONLY_TABLES
    assert {(r["table_name"], r["action"]) for r in rows} == {  # pinned: a new pair needs the research again
        ("LiteLLM_OrganizationTable", "created"), ("LiteLLM_OrganizationTable", "updated"),
        ("LiteLLM_TeamTable", "created"), ("LiteLLM_TeamTable", "updated"),
        ("LiteLLM_UserTable", "created"), ("LiteLLM_UserTable", "updated"),
        ("LiteLLM_TeamMembership", "created"), ("LiteLLM_TeamMembership", "updated"),
        ("LiteLLM_TeamMembership", "deleted"),  # a removed member's own budget row
        ("LiteLLM_OrganizationMembership", "created"), ("LiteLLM_OrganizationMembership", "updated"),
        ("LiteLLM_OrganizationMembership", "deleted"),
        ("LiteLLM_VerificationToken", "created"), ("LiteLLM_VerificationToken", "blocked"),
        ("LiteLLM_VerificationToken", "unblocked"), ("LiteLLM_VerificationToken", "deleted")}

    bob = db.value("""SELECT user_id FROM "LiteLLM_UserTable" WHERE user_email = 'Bob@Example.com'""")
    roster = [r for r in rows if (r["table_name"], r["action"], r["object_id"]) ==
              ("LiteLLM_TeamTable", "updated", "team-prod")][-1]  # LiteLLM's member_add shape: alias + roster
    assert set(roster["before_value"]) == set(roster["updated_values"]) == {"team_alias", "members_with_roles"}
    assert bob in {m["user_id"] for m in roster["before_value"]["members_with_roles"]}
    assert bob not in {m["user_id"] for m in roster["updated_values"]["members_with_roles"]}
    org_rows = {r["action"]: r for r in rows if r["table_name"] == "LiteLLM_OrganizationMembership"}
    assert {r["object_id"] for r in org_rows.values()} == {"org-acme:alice"}
    assert (org_rows["updated"]["before_value"], org_rows["updated"]["updated_values"]) == \
        ({"user_role": "org_admin"}, {"user_role": "internal_user"})
    assert (org_rows["deleted"]["before_value"], org_rows["deleted"]["updated_values"]) == \
        ({"user_role": "internal_user"}, None)


def test_budget_reset_at_follows_litellm_rules(cli, db) -> None:
    from datetime import datetime, timezone

    from litellm_dbctl.common import durations

    before = datetime.now(timezone.utc)
    assert cli("team", "provision", "--team-id", "t1", "--budget-duration", "7d", "--max-budget", "1").code == 0
    stored = db.value('SELECT budget_reset_at FROM "LiteLLM_TeamTable"')
    expected = durations.next_reset("7d", before).replace(tzinfo=None)
    assert stored == expected and stored.weekday() == 0  # next Monday, midnight UTC
    assert cli("team", "provision", "--team-id", "t1", "--budget-duration", "7d").code == 0
    assert db.value('SELECT budget_reset_at FROM "LiteLLM_TeamTable"') == stored  # unchanged duration: kept


def test_read_side_in_every_format(cli, tmp_path) -> None:
    assert cli("provision", "apply", write(tmp_path, SPEC)).code == 0
    for output in ("json", "csv", "table"):
        for args in (["user", "list"], ["team", "list"], ["org", "list"], ["key", "list"],
                     ["team", "show", "production"], ["org", "show", "acme"], ["user", "show", "alice"]):
            result = cli(*args, "--output", output)
            assert result.code == 0, (args, output, result)
            assert "alice" in result.stdout or "acme" in result.stdout or "production" in result.stdout
            if output == "json":
                json.loads(result.stdout)
    team = cli("team", "show", "production", "--json").json()
    assert {m["role"] for m in team["members"]} == {"admin", "user"} and team["member_budget"]["max_budget"] == 5
    assert all(m["in_user_teams"] and m["has_membership_row"] for m in team["members"])
    assert cli("org", "list", "--json").json()[0]["members"] == 1


def test_a_bare_team_reference_keeps_a_members_role(cli, db) -> None:
    assert cli("team", "provision", "--team-id", "t1", "--member", "ada@example.com:admin").code == 0
    before = fingerprint(db)
    same = cli("user", "provision", "--email", "ada@example.com", "--team", "t1")
    assert same.code == 0 and "0 changed" in same.stdout and fingerprint(db) == before
    demoted = cli("user", "provision", "--email", "ada@example.com", "--team", "t1:user", "--dry-run")
    assert demoted.code == 3 and "role: admin -> user" in demoted.stdout
    assert cli("user", "provision", "--email", "ada@example.com", "--team", "t1:user").code == 0
    assert db.value('SELECT members_with_roles FROM "LiteLLM_TeamTable"')[0]["role"] == "user"


def _refusing(db, tmp_path, user_id: str) -> str:
    """A 25-user spec, and a trigger that refuses to insert user `user_id`: its chunk fails."""
    db.execute(f"""CREATE FUNCTION refuse_{user_id}() RETURNS trigger LANGUAGE plpgsql AS
                   $$ BEGIN IF NEW.user_id = '{user_id}' THEN RAISE EXCEPTION 'refused {user_id}'; END IF;
                   RETURN NEW; END $$;
                   CREATE TRIGGER refuse_{user_id} BEFORE INSERT ON "LiteLLM_UserTable"
                   FOR EACH ROW EXECUTE FUNCTION refuse_{user_id}()""")
    users = "".join(f"  - user_id: u{i:02d}\n    teams: [t1]\n" for i in range(25))
    return write(tmp_path, "teams:\n  - team_id: t1\nusers:\n" + users)


def test_a_failed_chunk_leaves_earlier_chunks_and_a_rerun_finishes(cli, db, tmp_path) -> None:
    path = _refusing(db, tmp_path, "u15")
    failed = cli("provision", "apply", path, "--batch-size", "10")
    assert failed.code == 1 and "refused u15" in failed.stderr
    assert "chunk 1/3: " in failed.stderr and "chunk 2/3: " not in failed.stderr  # chunk 2 reported no progress
    assert "error: chunk 2/3 failed; chunk 1 (10 users) is committed" in failed.stderr
    assert db.value('SELECT count(*) FROM "LiteLLM_UserTable"') == 10  # chunk 1 committed, chunk 2 rolled back
    assert len(db.value('SELECT members_with_roles FROM "LiteLLM_TeamTable"')) == 10
    db.execute('DROP TRIGGER refuse_u15 ON "LiteLLM_UserTable"')
    rerun = cli("provision", "apply", path, "--batch-size", "10")
    assert rerun.code == 0, rerun
    assert "chunk 1/3: 10 users, 0 created" in rerun.stderr
    assert db.value('SELECT count(*) FROM "LiteLLM_UserTable"') == 25
    assert db.value('SELECT count(*) FROM "LiteLLM_TeamMembership"') == 25
    assert len(db.value('SELECT members_with_roles FROM "LiteLLM_TeamTable"')) == 25


def test_a_failed_chunk_says_what_is_committed_and_json_still_reports_it(cli, db, tmp_path) -> None:
    path = _refusing(db, tmp_path, "u22")
    failed = cli("provision", "apply", path, "--batch-size", "10", "--json")
    assert failed.code == 1, failed
    assert "dbctl: error: chunk 3/3 failed; chunks 1-2 (20 users) are committed, and a re-run finishes the rest: " \
           "database error: refused u22" in failed.stderr
    payload = failed.json()
    assert payload["dry_run"] is False and [(c["chunk"], c["users"]) for c in payload["chunks"]] == [(1, 10), (2, 10)]
    assert payload["rows_written"] == sum(c["rows_written"] for c in payload["chunks"]) > 0
    created = {(i["kind"], i["id"]) for i in payload["items"] if i["action"] == "create"}
    assert created == {("team", "t1")} | {(kind, f"u{i:02d}" + suffix) for i in range(20)
                                          for kind, suffix in (("user", ""), ("team_member", "@t1"))}
    assert payload["summary"]["create"] == 41 and db.value('SELECT count(*) FROM "LiteLLM_UserTable"') == 20

    table = cli("provision", "apply", path, "--batch-size", "10")  # chunks 1-2 now unchanged, 3 fails again
    assert table.code == 1 and "created 0, updated 0, unchanged 41 (0 changed, 0 rows written)" in table.stdout
    first = cli("provision", "apply", path, "--batch-size", "30", "--json")  # one chunk: nothing committed
    assert first.code == 1 and first.stdout == ""
    assert "chunk" not in first.stderr and "database error: refused u22" in first.stderr


def test_a_failed_chunk_keeps_the_exit_code_and_hint_of_its_cause() -> None:
    import psycopg

    from litellm_dbctl.common.errors import ExitCode, InvalidInput, LockBusy
    from litellm_dbctl.provision.apply import Chunk, ChunkFailed, Outcome
    from litellm_dbctl.provision.plan import Plan, Summary

    outcome = Outcome(Plan(()), True, (Chunk(1, 10, Summary(10, 0, 0), 10),))
    failed = ChunkFailed(2, 4, outcome, LockBusy("provisioning lock busy", hint="retry later"))
    assert (failed.exit_code, failed.hint) == (ExitCode.LOCKED, "retry later")
    assert failed.message == ("chunk 2/4 failed; chunk 1 (10 users) is committed, and a re-run finishes the rest: "
                              "provisioning lock busy")
    first = ChunkFailed(1, 4, Outcome(Plan(()), True), psycopg.Error("refused u01\nCONTEXT: PL/pgSQL function"))
    assert (first.exit_code, first.message) == (ExitCode.ERROR,
                                                "chunk 1/4 failed; nothing is committed: database error: refused u01")
    # Exit 2 says nothing changed: a problem found in a later chunk's plan, after chunk 1 committed, is exit 1.
    assert ChunkFailed(2, 4, outcome, InvalidInput("bad")).exit_code == ExitCode.ERROR
    assert ChunkFailed(1, 4, outcome, InvalidInput("bad")).exit_code == ExitCode.USAGE


TWICE = {
    "org roster and user list": ("organizations:\n  - organization_id: org-o5\n    organization_alias: o5\n"
                                 "    members_with_roles:\n      - user_id: u5\nusers:\n  - user_id: u5\n"
                                 "    organizations: [o5]\n"),
    "team roster and user list": ("teams:\n  - team_id: t7\n    team_alias: T7\n    members_with_roles:\n"
                                  "      - user_id: u7\n        role: admin\nusers:\n  - user_id: u7\n    teams: [T7]\n"),
    "a database team by alias and id": "users:\n  - user_id: u8\n    teams: ['T8', t8:admin]\n",
    "an org by alias and id": ("organizations:\n  - organization_id: org-o9\n    organization_alias: o9\n"
                               "users:\n  - user_id: u9\n    organizations: [o9, org-o9]\n"),
}


@pytest.mark.parametrize("case", sorted(TWICE))
def test_a_membership_named_twice_is_one_membership(cli, db, tmp_path, case) -> None:
    assert cli("team", "provision", "--team-id", "t8", "--alias", "T8").code == 0
    path = write(tmp_path, TWICE[case])
    assert cli("provision", "validate", path).code == 0
    result = cli("provision", "apply", path, "--json")
    assert result.code == 0, result
    members = [i for i in result.json()["items"] if i["kind"] in ("team_member", "org_member")]
    assert len(members) == 1 and members[0]["action"] == "create"
    rows = db.query('SELECT user_id, team_id AS target FROM "LiteLLM_TeamMembership" UNION ALL '
                    'SELECT user_id, organization_id FROM "LiteLLM_OrganizationMembership"')
    assert len(rows) == 1
    if members[0]["kind"] == "team_member":
        user_id, team_id = rows[0]["user_id"], rows[0]["target"]
        roster = db.value('SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = %s', [team_id])
        assert roster == [{"user_id": user_id, "user_email": None, "role": "admin"}]  # the role given once is kept
        assert db.value('SELECT teams FROM "LiteLLM_UserTable" WHERE user_id = %s', [user_id]) == [team_id]
    before = fingerprint(db)
    again = cli("provision", "apply", path)
    assert again.code == 0 and "0 changed" in again.stdout and fingerprint(db) == before


def test_the_readme_spec_applies_and_reapplies(cli, db, tmp_path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    spec = readme.split("<!-- readme-test: file spec.yaml -->\n```yaml\n", 1)[1].split("```", 1)[0]
    path = write(tmp_path, spec)
    result = cli("provision", "apply", path)
    assert result.code == 0, result
    assert db.value("""SELECT budget_id FROM "LiteLLM_VerificationToken" WHERE key_alias = 'ci-bot'""") == "ci-tier"
    ada = db.value("""SELECT user_id FROM "LiteLLM_UserTable" WHERE user_email = 'ada@example.com'""")
    assert db.value('SELECT count(*) FROM "LiteLLM_OrganizationMembership" WHERE user_id = %s', [ada]) == 1
    assert db.value('SELECT count(*) FROM "LiteLLM_TeamMembership" WHERE user_id = %s', [ada]) == 1
    before = fingerprint(db)
    assert cli("provision", "apply", path).code == 0 and fingerprint(db) == before


DISAGREE = {
    "roles": ("teams:\n  - team_id: t10\n    team_alias: T10\n    members_with_roles:\n      - user_id: u10\n"
              "        role: admin\nusers:\n  - user_id: u10\n    teams: ['T10:user']\n",
              "spec.yaml:9: users[0].teams[0]: u10 is already a member of team 'T10' (t10) with role 'admin' "
              "(at spec.yaml:5)"),
    "member budgets": ("teams:\n  - team_id: t11\n    members_with_roles:\n      - user_id: u11\n"
                       "        max_budget_in_team: 5\nusers:\n  - user_id: u11\n"
                       "    teams: [{team_id: t11, max_budget_in_team: 6}]\n",
                       "spec.yaml:8: users[0].teams[0]: u11 is already a member of team 't11' with another budget "
                       "(at spec.yaml:4)"),
    "a database team's alias and id": ("users:\n  - user_id: u8\n    teams: ['T8:admin', 't8:user']\n",
                                       "spec.yaml:3: users[0].teams[1]: u8 is already a member of team 't8' with "
                                       "role 'admin' (at spec.yaml:3)"),
    "org roles": ("organizations:\n  - organization_id: org-o9\n    organization_alias: o9\n"
                  "    members_with_roles:\n      - user_id: u9\n        role: org_admin\n"
                  "users:\n  - user_id: u9\n    organizations: ['org-o9:internal_user']\n",
                  "spec.yaml:9: users[0].organizations[0]: u9 is already a member of organization 'org-o9' with "
                  "role 'org_admin' (at spec.yaml:5)"),
}


@pytest.mark.parametrize("case", sorted(DISAGREE))
def test_a_membership_named_twice_must_agree(cli, db, tmp_path, case) -> None:
    assert cli("team", "provision", "--team-id", "t8", "--alias", "T8").code == 0
    text, expected = DISAGREE[case]
    path = write(tmp_path, text)
    before = fingerprint(db)
    for command in ("validate", "apply"):
        result = cli("provision", command, path)
        assert result.code == 2, result
        assert expected.replace("spec.yaml", path) in result.stderr, result.stderr
    assert fingerprint(db) == before


def test_no_alias_or_email_is_given_to_a_second_object(cli, db, tmp_path) -> None:
    assert cli("team", "provision", "--team-id", "research-old", "--alias", "Research").code == 0
    assert cli("org", "provision", "--org-id", "org-old", "--alias", "acme").code == 0
    assert cli("user", "provision", "--user-id", "ada", "--email", "ada@example.com").code == 0
    assert cli("user", "provision", "--user-id", "bob", "--email", "bob@example.com").code == 0
    path = write(tmp_path, """\
organizations:
  - organization_id: org-new
    organization_alias: acme
teams:
  - team_id: brandnew
    team_alias: Research
users:
  - user_id: bob
    user_email: ADA@example.com
""")
    before = fingerprint(db)
    for command in ("validate", "apply"):
        result = cli("provision", command, path)
        assert result.code == 2, result
        for line in (f"{path}:3: organizations[0].organization_alias: alias 'acme' is already used by "
                     "organization 'org-old'",
                     f"{path}:6: teams[0].team_alias: alias 'Research' is already used by team 'research-old'",
                     f"{path}:9: users[0].user_email: 'ADA@example.com' is already the email of user 'ada'"):
            assert line in result.stderr, result.stderr
    assert fingerprint(db) == before
    for args, message in ((("team", "provision", "--team-id", "brandnew", "--alias", "Research"),
                           "dbctl: error: --alias: alias 'Research' is already used by team 'research-old'"),
                          (("org", "provision", "--org-id", "org-new", "--alias", "acme"),
                           "dbctl: error: --alias: alias 'acme' is already used by organization 'org-old'"),
                          (("user", "provision", "--user-id", "bob", "--email", "ada@example.com"),
                           "dbctl: error: --email: 'ada@example.com' is already the email of user 'ada'")):
        result = cli(*args)
        assert result.code == 2 and message in result.stderr, (args, result)
    assert fingerprint(db) == before
    assert cli("team", "show", "Research", "--json").json()["team"]["team_id"] == "research-old"


def test_an_alias_or_email_the_same_spec_frees_can_be_taken(cli, db, tmp_path) -> None:
    assert cli("team", "provision", "--team-id", "research-old", "--alias", "Research").code == 0
    assert cli("user", "provision", "--user-id", "ada", "--email", "ada@example.com").code == 0
    assert cli("user", "provision", "--user-id", "bob", "--email", "bob@example.com").code == 0
    path = write(tmp_path, """\
teams:
  - team_id: research-old
    team_alias: Research (old)
  - team_id: brandnew
    team_alias: Research
users:
  - user_id: ada
    user_email: ada@old.example.com
  - user_id: bob
    user_email: ada@example.com
""")
    result = cli("provision", "apply", path)
    assert result.code == 0, result
    assert cli("team", "show", "Research", "--json").json()["team"]["team_id"] == "brandnew"
    assert cli("user", "show", "ada@example.com", "--json").json()["user"]["user_id"] == "bob"


def test_a_budget_change_stamps_the_organization_row(cli, db) -> None:
    assert cli("org", "provision", "--alias", "neworg").code == 0
    created = db.query('SELECT updated_at, updated_by FROM "LiteLLM_OrganizationTable"')[0]
    assert cli("org", "provision", "--alias", "neworg", "--budget-duration", "1d", "--actor", "ops").code == 0
    org = db.query('SELECT o.updated_at, o.updated_by, b.budget_duration FROM "LiteLLM_OrganizationTable" o '
                   'JOIN "LiteLLM_BudgetTable" b USING (budget_id)')[0]
    assert org["budget_duration"] == "1d" and org["updated_by"] == "ops" and org["updated_at"] > created["updated_at"]
    before = fingerprint(db)
    again = cli("org", "provision", "--alias", "neworg", "--budget-duration", "1d")
    assert again.code == 0 and "0 changed" in again.stdout and fingerprint(db) == before


def test_show_in_csv_holds_every_table_of_the_json(cli, tmp_path) -> None:
    assert cli("provision", "apply", write(tmp_path, SPEC)).code == 0
    for args, sections in ((("team", "show", "production"), ("team", "member_budget", "members", "keys")),
                           (("user", "show", "alice"), ("user", "teams", "organizations", "keys")),
                           (("user", "show", "carol@example.com"), ("user", "teams", "organizations", "keys")),
                           (("org", "show", "acme"), ("organization", "members", "teams"))):
        payload = cli(*args, "--json").json()
        result = cli(*args, "--output", "csv")
        assert result.code == 0, result
        blocks = result.stdout.rstrip("\n").split("\n\n")
        assert len(blocks) == len(sections), (args, result.stdout)
        for name, block in zip(sections, blocks):
            rows = list(csv.DictReader(io.StringIO(block)))
            expected = payload[name] if isinstance(payload[name], list) else [payload[name]] if payload[name] else []
            assert len(rows) == len(expected), (args, name, block)
            assert block.split("\n", 1)[0]  # a header even without rows
            for row, record in zip(rows, expected):
                assert list(row) == list(record), (args, name)  # every column the JSON has
    carol = cli("user", "show", "carol@example.com", "--output", "csv").stdout.rstrip("\n").split("\n\n")
    assert carol[2] == "organization_id,organization_alias,role,spend"  # no organizations: the header alone


def test_user_list_role_must_be_a_litellm_role(cli, tmp_path) -> None:
    assert cli("provision", "apply", write(tmp_path, SPEC)).code == 0
    bogus = cli("user", "list", "--role", "bogus")
    assert bogus.code == 2 and bogus.stdout == ""
    assert "--role: unknown role 'bogus' (expected one of: proxy_admin, proxy_admin_viewer, internal_user" \
        in bogus.stderr
    assert [u["user_id"] for u in cli("user", "list", "--role", "proxy_admin", "--json").json()] == ["alice"]


def test_a_member_on_the_default_budget_shows_it_as_the_old_value(cli, db) -> None:
    """Giving a member a budget of its own replaces the team's default member budget: the plan says so."""
    assert cli("team", "provision", "--team-id", "research", "--member-budget", "10").code == 0
    assert cli("team", "add-member", "research", "ada@example.com").code == 0
    planned = cli("team", "add-member", "research", "ada@example.com", "--max-budget-in-team", "25", "--dry-run",
                  "--json")
    assert planned.code == 3, planned
    [member] = [i for i in planned.json()["items"] if i["kind"] == "team_member"]
    assert member["changes"] == [{"field": "max_budget_in_team", "old": 10.0, "new": 25.0}]
