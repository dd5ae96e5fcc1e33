"""`dbctl audit list|show|export`: the rows dbctl's own provisioning writes and rows in the shape LiteLLM's
proxy writes (before/after json-encoded into a JSON string, the raw key in a created key's row), each filter,
show's diff, export read back as JSON lines and CSV, and bad filter values (exit 2 naming the flag)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from helpers import Database

from litellm_dbctl.audit import read

RAW = "sk-proxy-made-key-000000000001"
TOKEN = hashlib.sha256(RAW.encode()).hexdigest()


def litellm_row(db: Database, action: str, table: str, object_id: str, before: Any, after: Any, *,
                by: str = "default_user_id", at: datetime | None = None) -> str:
    """An audit row as LiteLLM 1.109.1 writes it: dicts json.dumps'd, then stored by Prisma in the Json
    column, which keeps the text as a JSON string."""
    row_id = str(uuid.uuid4())
    db.execute('INSERT INTO "LiteLLM_AuditLog" (id, updated_at, changed_by, changed_by_api_key, action, table_name, '
               'object_id, before_value, updated_values) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)',
               (row_id, at or datetime.utcnow(), by, "hashed-caller", action, table, object_id,
                None if before is None else json.dumps(json.dumps(before)),
                None if after is None else json.dumps(json.dumps(after))))
    return row_id


@pytest.fixture
def trail(cli, db: Database) -> Database:
    """dbctl's provisioning (a team, a user, a key, a block) and LiteLLM's rows (a key it created, a team it
    updated a month ago, a user it deleted)."""
    assert cli("team", "provision", "--team-id", "t1", "--alias", "Research", "--actor", "ops").code == 0
    assert cli("user", "provision", "--user-id", "ada", "--email", "ada@example.com", "--actor", "ops").code == 0
    assert cli("key", "create", "--user", "ada", "--alias", "ada-cli", "--actor", "ops").code == 0
    assert cli("key", "block", "ada-cli", "--actor", "sec").code == 0
    litellm_row(db, "created", "LiteLLM_VerificationToken", TOKEN, None,
                {"key": RAW, "token_id": TOKEN, "key_alias": "proxy-key", "models": []})
    litellm_row(db, "updated", "LiteLLM_TeamTable", "t1", {"team_alias": "research", "max_budget": 10},
                {"team_alias": "Research", "max_budget": 20}, by="admin@example.com",
                at=datetime.utcnow() - timedelta(days=30))
    litellm_row(db, "deleted", "LiteLLM_UserTable", "gone-user", {"user_id": "gone-user"}, None)
    return db


def ids(result: Any) -> list[tuple[str, str, str]]:
    return [(r["action"], r["table_name"], r["object_name"] or r["object_id"]) for r in result.json()]


def test_list_shows_both_writers_newest_first_and_hides_raw_keys(cli, trail: Database) -> None:
    result = cli("audit", "list", "--json")
    assert result.code == 0, result
    rows = result.json()
    assert len(rows) == 7 and RAW not in result.stdout
    assert [r["updated_at"] for r in rows] == sorted((r["updated_at"] for r in rows), reverse=True)
    created = next(r for r in rows if r["object_id"] == TOKEN)
    assert created["updated_values"]["key"] == "sk-..." + RAW[-4:]  # decoded from LiteLLM's JSON text
    assert created["object_name"] is None and created["changed_fields"] == ["key", "token_id", "key_alias", "models"]
    team = next(r for r in rows if r["changed_by"] == "admin@example.com")
    assert team["before_value"] == {"team_alias": "research", "max_budget": 10}
    assert team["object_name"] == "Research" and team["changed_fields"] == ["team_alias", "max_budget"]
    mine = [r for r in rows if r["changed_by"] in ("ops", "sec")]
    assert {(r["action"], r["table_name"]) for r in mine} == {
        ("created", "LiteLLM_TeamTable"), ("created", "LiteLLM_UserTable"), ("created", "LiteLLM_VerificationToken"),
        ("blocked", "LiteLLM_VerificationToken")}
    table = cli("audit", "list")
    assert table.code == 0 and "ada-cli" in table.stdout and RAW not in table.stdout


def test_each_filter(cli, trail: Database) -> None:
    def listed(*args: str) -> list[tuple[str, str, str]]:
        result = cli("audit", "list", *args, "--json")
        assert result.code == 0, result
        return ids(result)

    assert listed("--table", "key") == listed("--table", "LiteLLM_VerificationToken") == \
        listed("--table", "litellm_verificationtoken")
    assert {a for a, _, _ in listed("--table", "key")} == {"created", "blocked"}
    assert len(listed("--table", "team,user")) == 4
    assert listed("--action", "blocked") == [("blocked", "LiteLLM_VerificationToken", "ada-cli")]
    assert len(listed("--action", "created", "--action", "deleted")) == 5
    assert [r[2] for r in listed("--actor", "sec")] == ["ada-cli"]
    assert len(listed("--actor", "ops", "--actor", "sec")) == 4
    assert listed("--since", "7d", "--table", "team") == [("created", "LiteLLM_TeamTable", "Research")]
    assert listed("--until", "7d") == [("updated", "LiteLLM_TeamTable", "Research")]
    assert len(listed("-n", "2")) == 2
    assert "note: showing the first 2 audit rows" in cli("audit", "list", "-n", "2").stderr


def test_object_is_named_as_everywhere(cli, trail: Database) -> None:
    def objects(ref: str, *args: str) -> set[tuple[str, str]]:
        result = cli("audit", "list", "--object", ref, *args, "--json")
        assert result.code == 0, result
        return {(r["action"], r["table_name"]) for r in result.json()}

    token = trail.value('SELECT token FROM "LiteLLM_VerificationToken" WHERE key_alias = %s', ("ada-cli",))
    by_alias = objects("ada-cli")
    assert by_alias == {("created", "LiteLLM_VerificationToken"), ("blocked", "LiteLLM_VerificationToken")}
    assert objects(token) == objects(token[:10]) == by_alias
    assert objects(RAW) == {("created", "LiteLLM_VerificationToken")}  # a raw key: hashed before any query
    assert objects("Research") == objects("t1") == {("created", "LiteLLM_TeamTable"), ("updated", "LiteLLM_TeamTable")}
    assert objects("ada@example.com") == objects("ADA@example.com") == {("created", "LiteLLM_UserTable")}
    assert objects("ada@example.com", "--table", "user") == {("created", "LiteLLM_UserTable")}
    assert objects("gone-user") == {("deleted", "LiteLLM_UserTable")}  # deleted: its rows' object_id


def test_team_object_includes_its_memberships(cli, db: Database) -> None:
    assert cli("team", "provision", "--team-id", "t1", "--alias", "Research").code == 0
    assert cli("user", "provision", "--user-id", "bob").code == 0
    assert cli("team", "add-member", "Research", "bob", "--max-budget-in-team", "5").code == 0  # a membership row
    tables = {r["table_name"] for r in cli("audit", "list", "--object", "Research", "--json").json()}
    assert "LiteLLM_TeamMembership" in tables and "LiteLLM_TeamTable" in tables
    tables = {r["table_name"] for r in cli("audit", "list", "--object", "bob", "--json").json()}
    assert "LiteLLM_TeamMembership" in tables and "LiteLLM_UserTable" in tables


def test_bad_filters_exit_2_naming_the_flag(cli, trail: Database) -> None:
    for args, flag in [(("--table", "widgets"), "--table"), (("--action", "exploded"), "--action"),
                       (("--since", "yesterdayish"), "--since"), (("--until", "2026-02-30"), "--until"),
                       (("--actor", "a\x00b"), "--actor"), (("--object", "x\x00"), "--object")]:
        result = cli("audit", "list", *args)
        assert result.code == 2, (args, result)
        assert flag in result.stderr and len(result.stderr.strip().splitlines()) <= 2, (args, result.stderr)
    unknown = cli("audit", "list", "--object", "Reserch")
    assert unknown.code == 2 and "no user, team, organization, key or end user 'Reserch'" in unknown.stderr
    assert "'Research'" in unknown.stderr  # the closest names
    raw = cli("audit", "list", "--object", "sk-not-a-key-anywhere-0000")
    assert raw.code == 2 and "sk-not-a-key" not in raw.stderr + raw.stdout
    assert cli("audit", "export", "--format", "xml").code == 2
    assert cli("audit", "show", "nope").code == 2


def test_show_prints_one_row_whole_with_its_diff(cli, trail: Database) -> None:
    row_id = trail.value('SELECT id FROM "LiteLLM_AuditLog" WHERE changed_by = %s', ("admin@example.com",))
    result = cli("audit", "show", row_id, "--json")
    assert result.code == 0, result
    body = result.json()
    assert body["id"] == row_id and body["updated_values"] == {"team_alias": "Research", "max_budget": 20}
    assert body["changes"] == {"team_alias": {"old": "research", "new": "Research"},
                               "max_budget": {"old": 10, "new": 20}}
    assert cli("audit", "show", row_id[:8], "--json").json()["id"] == row_id
    table = cli("audit", "show", row_id)
    assert table.code == 0 and "max_budget" in table.stdout and "admin@example.com" in table.stdout
    as_csv = cli("--output", "csv", "audit", "show", row_id)
    assert next(csv.reader(io.StringIO(as_csv.stdout))) == ["field", "before", "after"]
    key_row = trail.value('SELECT id FROM "LiteLLM_AuditLog" WHERE object_id = %s', (TOKEN,))
    shown = cli("audit", "show", key_row)
    assert shown.code == 0 and RAW not in shown.stdout


def test_export_jsonl_and_csv_read_back(cli, trail: Database, tmp_path) -> None:
    listed = cli("audit", "list", "--json").json()
    out = tmp_path / "audit.jsonl"
    result = cli("audit", "export", "--to", str(out))
    assert result.code == 0, result
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == list(reversed(listed))  # oldest first, the same records
    assert RAW not in out.read_text() and not (tmp_path / "audit.jsonl.partial").exists()
    as_csv = cli("audit", "export", "--format", "csv", "--table", "team")
    assert as_csv.code == 0, as_csv
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["action"] for r in rows] == ["updated", "created"]
    assert json.loads(rows[0]["before_value"]) == {"team_alias": "research", "max_budget": 10}
    assert rows[0]["changed_fields"] == "team_alias,max_budget" and rows[1]["before_value"] == ""
    assert cli("audit", "export", "--to", str(tmp_path / "missing" / "x.csv")).code == 2


def test_list_csv_and_an_empty_list(cli, trail: Database) -> None:
    result = cli("--output", "csv", "audit", "list", "--action", "deleted")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["object_id"] for r in rows] == ["gone-user"]
    empty = cli("audit", "list", "--action", "rotated")
    assert empty.code == 0 and "no audit rows match" in empty.stdout


def test_decoding_and_changes_are_plain_functions() -> None:
    assert read.decoded(json.dumps({"a": 1})) == {"a": 1}
    assert read.decoded("{not json") == "{not json"
    assert read.decoded({"nested": [RAW]}) == {"nested": ["sk-..." + RAW[-4:]]}
    assert read.changes(None, {"a": 1}) == {"a": (None, 1)}
    assert read.changes({"a": 1, "b": 2}, {"a": 1, "b": 3}) == {"b": (2, 3)}
    assert read.changes({"a": 1}, None) == {"a": (1, None)}
    assert read.changes("x", "y") == {"(value)": ("x", "y")}
    assert read.tables(["end_user", "Team-Member", "LITELLM_CONFIG"]) == (
        "LiteLLM_EndUserTable", "LiteLLM_TeamMembership", "LiteLLM_Config")
