"""`dbctl key`: keys authenticate by LiteLLM's rule, aliases stay unique, raw keys never leak."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta

import pytest
from fix_provision import fingerprint, write


@pytest.fixture
def owner(cli) -> str:
    assert cli("team", "provision", "--team-id", "t1", "--alias", "research").code == 0
    assert cli("user", "provision", "--user-id", "admin", "--role", "proxy_admin").code == 0
    return "admin"


def test_created_key_authenticates_by_litellms_rule(cli, db, owner) -> None:
    result = cli("key", "create", "--user", owner, "--team", "research", "--alias", "admin-cli", "--duration", "30d",
                 "--max-budget", "10", "--budget-duration", "1d", "--models", "gpt-4o,claude")
    assert result.code == 0, result
    raw = result.stdout.strip()
    assert raw.startswith("sk-") and len(raw) > 20 and result.stdout.count("sk-") == 1
    row = db.query('SELECT * FROM "LiteLLM_VerificationToken"')[0]
    assert row["token"] == hashlib.sha256(raw.encode("utf-8")).hexdigest()  # how the proxy checks a bearer key
    assert row["key_name"] == "sk-..." + raw[-4:] and row["key_alias"] == "admin-cli"
    assert (row["user_id"], row["team_id"], row["models"]) == ("admin", "t1", ["gpt-4o", "claude"])
    assert (row["aliases"], row["config"], row["permissions"], row["metadata"], row["model_max_budget"]) == \
        ({}, {}, {}, {}, {})
    assert row["created_by"] == "dbctl" and row["budget_reset_at"] is not None
    assert abs(row["expires"] - (datetime.utcnow() + timedelta(days=30))) < timedelta(minutes=1)
    audit = db.query('SELECT * FROM "LiteLLM_AuditLog"')[-1]
    assert (audit["action"], audit["object_id"]) == ("created", row["token"])
    dump = str(db.query('SELECT * FROM "LiteLLM_AuditLog"')) + str(db.query('SELECT * FROM "LiteLLM_VerificationToken"'))
    assert raw not in dump


def test_alias_uniqueness_as_litellm_checks_it(cli, db, owner) -> None:
    assert cli("key", "create", "--user", owner, "--alias", "ci").code == 0
    again = cli("key", "create", "--user", owner, "--alias", "ci")
    assert again.code == 2 and "already in use" in again.stderr
    assert cli("key", "create", "--user", owner, "--alias", "CI").code == 0  # exact, case-sensitive match
    assert db.value('SELECT count(*) FROM "LiteLLM_VerificationToken"') == 2


def test_key_needs_an_existing_owner(cli, db) -> None:
    assert cli("key", "create", "--user", "ghost").code == 2
    assert cli("key", "create", "--team", "ghost").code == 2
    assert cli("key", "create").code == 2
    assert db.value('SELECT count(*) FROM "LiteLLM_VerificationToken"') == 0


def test_custom_key_from_stdin(cli, db, owner) -> None:
    raw = "sk-my-bootstrap-key-0001"
    result = cli("key", "create", "--user", owner, "--key-stdin", input=raw + "\n")
    assert result.code == 0 and result.stdout.strip() == raw
    assert db.value('SELECT token FROM "LiteLLM_VerificationToken"') == hashlib.sha256(raw.encode()).hexdigest()
    assert cli("key", "create", "--user", owner, "--key-stdin", input="short\n").code == 2


def test_list_never_shows_a_raw_key_or_full_hash_unless_asked(cli, db, owner) -> None:
    raw = cli("key", "create", "--user", owner, "--alias", "k1").stdout.strip()
    token = hashlib.sha256(raw.encode()).hexdigest()
    for output in ("table", "json", "csv"):
        listed = cli("key", "list", "--output", output)
        assert listed.code == 0 and "k1" in listed.stdout
        assert raw not in listed.stdout and token not in listed.stdout
    full = cli("key", "list", "--full-hash", "--json").json()
    assert full[0]["token"] == token and full[0]["blocked"] is False
    assert cli("key", "list", "--json").json()[0]["token"] == token[:12]  # a bare prefix scripts can match
    cli("key", "create", "--user", owner, "--alias", "k2")
    cut = cli("key", "list", "--limit", "1")
    assert cut.code == 0 and "showing the first 1 keys; there may be more (raise --limit)" in cut.stderr, cut
    assert "there may be more" not in cli("key", "list", "--limit", "3").stderr


def test_block_unblock_delete(cli, db, owner) -> None:
    raw = cli("key", "create", "--user", owner, "--alias", "k1").stdout.strip()
    token = hashlib.sha256(raw.encode()).hexdigest()
    assert cli("key", "block", "k1", "--dry-run").code == 3
    assert db.value('SELECT blocked FROM "LiteLLM_VerificationToken"') is None
    assert cli("key", "block", token[:10]).code == 0
    assert db.value('SELECT blocked FROM "LiteLLM_VerificationToken"') is True
    xmin = db.value('SELECT xmin::text FROM "LiteLLM_VerificationToken"')
    again = cli("key", "block", "k1")
    assert again.code == 0 and "unchanged" in again.stdout
    assert db.value('SELECT xmin::text FROM "LiteLLM_VerificationToken"') == xmin
    assert cli("key", "unblock", raw).code == 0  # the raw key names it too (hashed, never echoed)
    assert db.value('SELECT blocked FROM "LiteLLM_VerificationToken"') is False
    actions = [r["action"] for r in db.query('SELECT action FROM "LiteLLM_AuditLog" ORDER BY updated_at, action')]
    assert actions.count("blocked") == 1 and actions.count("unblocked") == 1
    deleted = cli("key", "delete", "k1", "--json")
    assert deleted.code == 0 and deleted.json()["action"] == "deleted"
    assert db.value('SELECT count(*) FROM "LiteLLM_VerificationToken"') == 0
    archived = db.query('SELECT * FROM "LiteLLM_DeletedVerificationToken"')[0]
    assert (archived["token"], archived["key_alias"], archived["deleted_by"]) == (token, "k1", "dbctl")
    assert cli("key", "delete", "k1").code == 2


@pytest.mark.slow  # waits out a lock timeout of seconds on purpose
@pytest.mark.parametrize("command", ["block", "delete"])
def test_a_row_lock_held_by_a_proxy_is_reported_and_exit_5(cli, db, owner, command) -> None:
    assert cli("key", "create", "--user", owner, "--alias", "busy").code == 0
    with db.connect(application_name="litellm-proxy-test") as proxy, proxy.transaction():
        pid = proxy.execute("""SELECT pg_backend_pid()""").fetchone()["pg_backend_pid"]
        proxy.execute("""SELECT * FROM "LiteLLM_VerificationToken" WHERE key_alias = 'busy' FOR UPDATE""")
        started = time.monotonic()
        result = cli("key", command, "busy", "--lock-timeout", "3")
        waited = time.monotonic() - started
    assert result.code == 5, result
    assert f"pid {pid} (litellm-proxy-test)" in result.stderr, result.stderr
    assert "waiting for a row lock on LiteLLM_VerificationToken held by" in result.stderr
    assert "gave up after 3 s" in result.stderr
    assert 2.5 < waited < 8, waited
    assert db.value("""SELECT blocked FROM "LiteLLM_VerificationToken" WHERE key_alias = 'busy'""") is None
    assert cli("key", command, "busy").code == 0  # once the proxy let go


def test_spec_keys_are_never_rotated(cli, db, tmp_path, owner) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text("keys:\n  - key_alias: svc\n    user_id: admin\n    max_budget: 5\n")
    first = cli("provision", "apply", str(path))
    assert first.code == 0 and "svc\tsk-" in first.stdout
    token = db.value('SELECT token FROM "LiteLLM_VerificationToken"')
    path.write_text("keys:\n  - key_alias: svc\n    user_id: admin\n    max_budget: 6\n")
    second = cli("provision", "apply", str(path))
    assert second.code == 0 and "sk-" not in second.stdout
    row = db.query('SELECT * FROM "LiteLLM_VerificationToken"')[0]
    assert (row["token"], row["max_budget"]) == (token, 6)


def test_a_chosen_key_value_that_exists_is_exit_2_naming_the_key_not_the_value(cli, db, tmp_path, owner) -> None:
    raw, unnamed = "sk-MySecretValue123456", "sk-AnotherSecret654321"
    assert cli("key", "create", "--user", owner, "--alias", "ks", "--key-stdin", input=raw + "\n").code == 0
    assert cli("key", "create", "--user", owner, "--key-stdin", input=unnamed + "\n").code == 0
    secrets = (raw, unnamed, hashlib.sha256(raw.encode()).hexdigest(), hashlib.sha256(unnamed.encode()).hexdigest())
    before = fingerprint(db)
    again = cli("key", "create", "--user", owner, "--alias", "ks2", "--key-stdin", input=raw + "\n")
    assert again.code == 2 and "--key-stdin: a key with this value already exists (alias 'ks')" in again.stderr, again
    spec = write(tmp_path, f"keys:\n  - key_alias: fine\n    user_id: admin\n  - key_alias: other\n    user_id: admin\n"
                           f"    key: {raw}\n  - key_alias: third\n    user_id: admin\n    key: {unnamed}\n"
                           f"  - key_alias: fourth\n    user_id: admin\n    key: sk-SameValueTwice0001\n"
                           f"  - key_alias: fifth\n    user_id: admin\n    key: sk-SameValueTwice0001\n")
    applied = cli("provision", "apply", spec)
    assert applied.code == 2, applied
    token = hashlib.sha256(unnamed.encode()).hexdigest()[:12]
    for line in (f"{spec}:6: keys[1].key: a key with this value already exists (alias 'ks')",
                 f"{spec}:9: keys[2].key: a key with this value already exists (token {token}…)",
                 f"{spec}:15: keys[4].key: the same value as keys[3].key (at {spec}:12)"):
        assert line in applied.stderr, applied.stderr
    for result in (again, applied):
        assert not any(secret in result.stdout + result.stderr for secret in secrets)
    assert fingerprint(db) == before
    kept = write(tmp_path, f"keys:\n  - key_alias: ks\n    user_id: admin\n    key: {raw}\n", "kept.yaml")
    assert cli("provision", "apply", kept).code == 0 and fingerprint(db) == before  # its own key: unchanged


def test_a_dry_run_names_no_generated_key(cli, db, owner, tmp_path) -> None:
    """A dry run's key is not the one a real run generates: no token or key_name is shown for it."""
    shown = cli("key", "create", "--user", owner, "--alias", "planned", "--dry-run", "--json")
    assert shown.code == 3, shown
    assert (shown.json()["key"], shown.json()["token"], shown.json()["key_name"]) == (None, None, None)
    table = cli("key", "create", "--user", owner, "--dry-run")
    assert table.code == 3 and "would create key (generated); nothing written" in table.stdout, table
    assert "sk-" not in table.stdout + table.stderr
    bad = cli("key", "create", "--user", owner, "--key-stdin", input="sk-short\n")
    assert bad.code == 2 and "--key-stdin: a custom key must start with 'sk-'" in bad.stderr, bad
    spec = write(tmp_path, "keys:\n  - key_alias: from-spec\n    user_id: admin\n")
    planned = cli("provision", "apply", spec, "--dry-run", "--json")
    assert planned.code == 3 and "sk-" not in planned.stdout, planned  # nor in a spec's dry run
    assert [(i["id"], i["label"]) for i in planned.json()["items"] if i["kind"] == "key"] == [("from-spec", "from-spec")]
    assert db.value('SELECT count(*) FROM "LiteLLM_VerificationToken"') == 0
