"""`provision apply|key create|key rotate --keys-out FILE`: created raw keys on disk before the commit
(issue 17 item 4)."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

from helpers import Database, killed_after_commit

SPEC = """\
users:
  - user_id: alice
keys:
  - key_alias: ci-bot
    user_id: alice
  - key_alias: deploy-bot
    user_id: alice
"""


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def stored(db: Database, raw: str) -> str | None:
    token = hashlib.sha256(raw.encode()).hexdigest()
    return db.value("""SELECT key_alias FROM "LiteLLM_VerificationToken" WHERE token = %s""", [token])


def test_a_run_killed_after_its_commit_has_written_every_created_key(db: Database, tmp_path: Path) -> None:
    spec, out = tmp_path / "spec.yaml", tmp_path / "keys.jsonl"
    spec.write_text(SPEC)
    stdout = killed_after_commit(["--database-url", db.url, "provision", "apply", str(spec), "--keys-out", str(out)])
    assert "sk-" not in stdout  # killed before printing: the file is all there is
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    keys = lines(out)
    assert sorted(k["key_alias"] for k in keys) == ["ci-bot", "deploy-bot"]
    for key in keys:
        assert stored(db, key["key"]) == key["key_alias"]
        assert key["token"] == hashlib.sha256(key["key"].encode()).hexdigest()


def test_keys_out_appends_and_a_re_run_creating_nothing_adds_nothing(cli, db: Database, tmp_path: Path) -> None:
    spec, out = tmp_path / "spec.yaml", tmp_path / "keys.jsonl"
    spec.write_text(SPEC)
    result = cli("provision", "apply", str(spec), "--keys-out", str(out))
    assert result.code == 0, result
    assert "2 created key(s) appended" in result.stderr
    first = lines(out)
    assert len(first) == 2 and all(stored(db, k["key"]) for k in first)
    assert cli("provision", "apply", str(spec), "--keys-out", str(out)).code == 0
    assert lines(out) == first


def test_a_rolled_back_run_takes_its_keys_back_out(cli, db: Database, tmp_path: Path) -> None:
    spec, out = tmp_path / "spec.yaml", tmp_path / "keys.jsonl"
    spec.write_text(SPEC)
    db.execute("""CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                  BEGIN RAISE EXCEPTION 'refused'; END $$;
                  CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON "LiteLLM_VerificationToken"
                  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()""")
    result = cli("provision", "apply", str(spec), "--keys-out", str(out))
    assert result.code == 1, result
    assert out.read_text() == ""


def test_a_keys_file_others_can_read_is_refused_before_anything_is_written(
        cli, db: Database, tmp_path: Path) -> None:
    spec, out = tmp_path / "spec.yaml", tmp_path / "keys.jsonl"
    spec.write_text(SPEC)
    out.write_text("")
    out.chmod(0o644)
    result = cli("provision", "apply", str(spec), "--keys-out", str(out))
    assert result.code == 2, result
    assert "--keys-out" in result.stderr and "0644" in result.stderr
    assert db.value("""SELECT count(*) FROM "LiteLLM_VerificationToken" """) == 0
    missing = cli("provision", "apply", str(spec), "--keys-out", str(tmp_path / "no" / "keys.jsonl"))
    assert missing.code == 2 and "--keys-out" in missing.stderr


def test_key_create_and_rotate_killed_after_their_commit_have_written_the_key(db: Database, tmp_path: Path) -> None:
    db.execute("""INSERT INTO "LiteLLM_UserTable" (user_id) VALUES ('alice')""")
    out = tmp_path / "keys.jsonl"
    stdout = killed_after_commit(["--database-url", db.url, "key", "create", "--user", "alice", "--alias", "ci-bot",
                                  "--keys-out", str(out)])
    assert "sk-" not in stdout
    [created] = lines(out)
    assert stored(db, created["key"]) == "ci-bot"
    stdout = killed_after_commit(["--database-url", db.url, "key", "rotate", "ci-bot", "--keys-out", str(out)])
    assert "sk-" not in stdout  # killed before the new key was shown: the file has it
    first, rotated = lines(out)
    assert first == created and rotated["key"] != created["key"]
    assert stored(db, rotated["key"]) == "ci-bot" and stored(db, created["key"]) is None  # the old one is gone
    assert rotated["token"] == hashlib.sha256(rotated["key"].encode()).hexdigest()


def test_key_create_and_rotate_rolled_back_take_their_key_back_out(cli, db: Database, tmp_path: Path) -> None:
    db.execute("""INSERT INTO "LiteLLM_UserTable" (user_id) VALUES ('alice')""")
    out = tmp_path / "keys.jsonl"
    made = cli("key", "create", "--user", "alice", "--alias", "ci-bot", "--keys-out", str(out), "--json")
    assert made.code == 0, made
    assert lines(out) == [{"key_alias": "ci-bot", "key_name": made.json()["key_name"], "token": made.json()["token"],
                           "key": made.json()["key"]}]
    db.execute("""CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                  BEGIN RAISE EXCEPTION 'refused'; END $$;
                  CREATE CONSTRAINT TRIGGER refuse AFTER INSERT OR UPDATE ON "LiteLLM_VerificationToken"
                  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()""")
    assert cli("key", "create", "--user", "alice", "--alias", "other", "--keys-out", str(out)).code == 1
    rotated = cli("key", "rotate", "ci-bot", "--keys-out", str(out))
    assert rotated.code == 1, rotated
    assert len(lines(out)) == 1 and stored(db, made.json()["key"]) == "ci-bot"  # nothing committed, nothing kept
    dry = cli("key", "rotate", "ci-bot", "--keys-out", str(tmp_path / "dry.jsonl"), "--dry-run")
    assert dry.code == 3 and not (tmp_path / "dry.jsonl").exists()
