"""Where running LiteLLM 1.109.1's own endpoint code against dbctl's rows found dbctl different
(issue 19 item 5), each through the CLI: `key_type` as /key/generate stores it, budget_limits
windows reset at the instant the proxy's job resets them, and /team/new's proxy-admin auto-add as
an option of team creation."""

from __future__ import annotations

from datetime import datetime

import fix_budget as fx
from helpers import Database
from psycopg.types.json import Jsonb

NOW = "2026-06-10T12:00:00Z"


def windows(db: Database, team_id: str) -> list[dict]:
    return db.value("""SELECT budget_limits FROM "LiteLLM_TeamTable" WHERE team_id = %s""", (team_id,))


def test_a_window_resets_when_the_proxy_would_on_a_non_utc_timezone(cli, db: Database) -> None:
    """LiteLLM's job drops reset_at's offset and compares its clock time with UTC now: east of UTC a
    window is due later than its instant, west of UTC earlier. dbctl resets it when the proxy does,
    and writes the next reset_at in the proxy's timezone as the proxy does."""
    east = [{"budget_duration": "1d", "max_budget": 2.0, "reset_at": "2026-06-10T13:30:00+02:00"}]  # 11:30Z
    west = [{"budget_duration": "1d", "max_budget": 2.0, "reset_at": "2026-06-10T11:30:00-04:00"}]  # 15:30Z
    fx.team(db, "t-east", budget_limits=Jsonb(east))
    fx.team(db, "t-west", budget_limits=Jsonb(west))

    result = cli("budget", "sync", "--now", NOW, "--timezone", "Europe/Berlin", "--json")
    assert result.code == 0, result
    changed = {c["id"]: c["changes"] for c in result.json()["changes"]}
    assert list(changed) == ["t-west"]  # 11:30 read as UTC is past noon; t-east's 13:30 is not
    assert changed["t-west"] == {"budget_limits[1d].reset_at": {"old": "2026-06-10T11:30:00-04:00",
                                                                 "new": "2026-06-11T00:00:00+02:00"}}
    assert windows(db, "t-east") == east
    assert windows(db, "t-west")[0]["reset_at"] == "2026-06-11T00:00:00+02:00"
    # the written window is due when the proxy finds it due: at 00:00 UTC, not at 22:00 UTC
    before = cli("budget", "sync", "--now", "2026-06-10T23:00:00Z", "--timezone", "Europe/Berlin", "--json")
    assert before.code == 0 and [c["id"] for c in before.json()["changes"]] == ["t-east"], before
    after = cli("budget", "sync", "--now", "2026-06-11T00:00:00Z", "--timezone", "Europe/Berlin", "--json")
    assert after.code == 0 and [c["id"] for c in after.json()["changes"]] == ["t-west"], after


def test_a_utc_window_is_unchanged(cli, db: Database) -> None:
    fx.team(db, "t-utc", budget_limits=Jsonb([{"budget_duration": "1d", "reset_at": "2026-06-10T00:00:00Z"}]))
    result = cli("budget", "sync", "--now", NOW, "--json")
    assert result.code == 0, result
    assert windows(db, "t-utc")[0]["reset_at"] == "2026-06-11T00:00:00+00:00"
    assert datetime.fromisoformat(windows(db, "t-utc")[0]["reset_at"]).utcoffset().total_seconds() == 0


def test_key_create_stores_key_type_as_key_generate_does(cli, db: Database) -> None:
    """/key/generate stores GenerateKeyRequest.key_type's default, 'default' (1.109.1 and 1.110.2)."""
    assert cli("user", "provision", "--user-id", "ada").code == 0
    result = cli("key", "create", "--user", "ada", "--alias", "ada-cli", "--json")
    assert result.code == 0, result
    assert result.json()["key_type"] == "default"
    assert db.value("""SELECT key_type FROM "LiteLLM_VerificationToken" WHERE key_alias = 'ada-cli'""") == "default"


def test_provisioned_keys_store_key_type_as_key_generate_does(cli, db: Database, tmp_path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("users:\n  - user_id: bob\nkeys:\n  - key_alias: bob-ci\n    user_id: bob\n"
                    "    allowed_routes: [llm_api_routes]\n")
    result = cli("provision", "apply", str(spec))
    assert result.code == 0, result
    row = db.query("""SELECT key_type, allowed_routes FROM "LiteLLM_VerificationToken" WHERE key_alias = 'bob-ci'""")
    assert row == [{"key_type": "default", "allowed_routes": ["llm_api_routes"]}]


def roster(db: Database, team_id: str) -> list[dict]:
    return db.value("""SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = %s""", (team_id,))


def memberships(db: Database, user_id: str) -> list[str]:
    return [r["team_id"] for r in db.query("""SELECT team_id FROM "LiteLLM_TeamMembership" WHERE user_id = %s
                                              ORDER BY team_id""", (user_id,))]


def test_add_proxy_admin_joins_a_team_this_creates_as_admin(cli, db: Database) -> None:
    """/team/new with the master key appends default_user_id as admin after the members it was given."""
    result = cli("team", "provision", "--team-id", "t1", "--member", "ada", "--add-proxy-admin", "default_user_id")
    assert result.code == 0, result
    assert roster(db, "t1") == [{"user_id": "ada", "user_email": None, "role": "user"},
                                {"user_id": "default_user_id", "user_email": None, "role": "admin"}]
    assert memberships(db, "default_user_id") == ["t1"]
    assert db.value("""SELECT teams FROM "LiteLLM_UserTable" WHERE user_id = 'default_user_id'""") == ["t1"]
    again = cli("team", "provision", "--team-id", "t1", "--add-proxy-admin", "default_user_id", "--dry-run")
    assert again.code == 0, again


def test_add_proxy_admin_leaves_an_existing_team_alone(cli, db: Database) -> None:
    assert cli("team", "provision", "--team-id", "t2", "--alias", "two").code == 0
    result = cli("team", "provision", "--team-id", "t2", "--add-proxy-admin", "default_user_id", "--json")
    assert result.code == 0, result
    assert roster(db, "t2") == []
    assert db.value("""SELECT count(*) FROM "LiteLLM_UserTable" WHERE user_id = 'default_user_id'""") == 0


def test_add_proxy_admin_keeps_the_role_the_members_give(cli, db: Database) -> None:
    result = cli("team", "provision", "--team-id", "t3", "--member", "default_user_id:user",
                 "--add-proxy-admin", "default_user_id")
    assert result.code == 0, result
    assert roster(db, "t3") == [{"user_id": "default_user_id", "user_email": None, "role": "user"}]


def test_add_proxy_admin_in_a_spec_and_a_bad_value(cli, db: Database, tmp_path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("teams:\n  - team_id: t4\n    add_proxy_admin: default_user_id\n  - team_id: t5\n")
    result = cli("provision", "apply", str(spec))
    assert result.code == 0, result
    assert memberships(db, "default_user_id") == ["t4"]
    bad = cli("team", "provision", "--team-id", "t6", "--add-proxy-admin", "")
    assert bad.code == 2 and "--add-proxy-admin" in bad.stderr, bad
    assert db.value("""SELECT count(*) FROM "LiteLLM_TeamTable" WHERE team_id = 't6'""") == 0


def test_add_proxy_admin_in_a_spec_applied_in_chunks(cli, db: Database, tmp_path) -> None:
    """The proxy admin joins in the first chunk, while its team is still being created."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("users:\n  - user_id: u1\n  - user_id: u2\n  - user_id: u3\n"
                    "teams:\n  - team_id: t7\n    add_proxy_admin: default_user_id\n")
    result = cli("provision", "apply", str(spec), "--batch-size", "1")
    assert result.code == 0, result
    assert memberships(db, "default_user_id") == ["t7"]
