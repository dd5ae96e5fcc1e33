"""`dbctl key update|rotate|info|prune` and `key list --expired|--unused-since` against LiteLLM's rows
(issue 22 item 1): only the fields given change, a rotated key authenticates by LiteLLM's rule and the
old one nowhere, a pruned key is kept as /key/delete keeps it, a prune killed midway finishes on re-run."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import fix_budget as fx
import pytest
from fix_redis import REDIS, needs_redis, plain
from helpers import Database, killed_after_commit, killed_at

VOLATILE = {"updated_at", "updated_by", "settings_updated_at"}  # stamped by every write


def sha(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def row(db: Database, alias: str = "k1") -> dict:
    return db.query('SELECT * FROM "LiteLLM_VerificationToken" WHERE key_alias = %s', [alias])[0]


def changed(before: dict, after: dict) -> set[str]:
    return {c for c in before if c not in VOLATILE and before[c] != after[c]}


@pytest.fixture
def raw(cli, db: Database) -> str:
    """Key k1 of user ada in team research (ada a member), with budgets and limits; its raw key."""
    assert cli("user", "provision", "--user-id", "ada", "--email", "ada@example.com").code == 0
    assert cli("user", "provision", "--user-id", "bob").code == 0
    assert cli("team", "provision", "--team-id", "t1", "--alias", "research", "--max-budget", "100",
               "--tpm-limit", "1000", "--member", "ada").code == 0
    assert cli("team", "provision", "--team-id", "t2", "--alias", "labs", "--member", "ada",
               "--models", "gpt-4o,claude").code == 0
    assert cli("team", "provision", "--team-id", "t3", "--alias", "ops", "--member", "bob").code == 0
    created = cli("key", "create", "--user", "ada", "--team", "research", "--alias", "k1", "--max-budget", "10",
                  "--budget-duration", "1d", "--tpm-limit", "100", "--rpm-limit", "10", "--models", "gpt-4o",
                  "--metadata", '{"service_account_id": "svc", "note": "a"}', "--duration", "30d")
    assert created.code == 0, created
    db.execute("""UPDATE "LiteLLM_VerificationToken" SET spend = 3.5""")
    return created.stdout.strip()


UPDATES = [
    (["--alias", "k1-renamed"], {"key_alias"}),
    (["--models", "gpt-4o,claude-3"], {"models"}),
    (["--max-budget", "20"], {"max_budget"}),
    (["--budget-duration", "7d"], {"budget_duration", "budget_reset_at"}),
    (["--tpm-limit", "200"], {"tpm_limit"}),
    (["--rpm-limit", "20"], {"rpm_limit"}),
    (["--metadata", '{"note": "b"}'], {"metadata"}),
    (["--duration", "90d"], {"expires"}),
    (["--duration", "never"], {"expires"}),
    (["--team", "labs", "--models", "claude"], {"team_id", "models"}),
    (["--blocked"], {"blocked"}),
]


@pytest.mark.parametrize(("args", "fields"), UPDATES, ids=[" ".join(a) for a, _ in UPDATES])
def test_update_changes_only_the_fields_given(cli, db: Database, raw: str, args: list[str], fields: set[str]) -> None:
    before = row(db)
    result = cli("key", "update", "k1", *args, "--actor", "ops-admin", "--json")
    assert result.code == 0, result
    out = result.json()
    assert out["action"] == "updated" and set(out["changed"]) == fields
    after = row(db, out["key_alias"])
    assert changed(before, after) == fields
    assert after["updated_by"] == "ops-admin" and after["settings_updated_at"] is not None
    assert after["token"] == sha(raw) and after["spend"] == 3.5
    audit = db.query("""SELECT * FROM "LiteLLM_AuditLog" WHERE action = 'updated' AND table_name = 'LiteLLM_VerificationToken'""")
    assert len(audit) == 1 and audit[0]["object_id"] == before["token"] and audit[0]["changed_by"] == "ops-admin"
    assert set(json.loads(audit[0]["updated_values"]) if isinstance(audit[0]["updated_values"], str)
               else audit[0]["updated_values"]) == fields
    if args != ["--duration", "90d"]:  # a lifetime counts from now: every run moves it
        again = cli("key", "update", out["key_alias"], *args)
        assert again.code == 0 and "unchanged" in again.stdout, again  # the same values: no write


def test_update_written_values_are_what_key_update_writes(cli, db: Database, raw: str) -> None:
    result = cli("key", "update", "k1", "--budget-duration", "1mo", "--duration", "never", "--metadata",
                 '{"note": "b"}', "--unblocked")
    assert result.code == 0, result
    after = row(db)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    first = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(day=1)
    assert after["budget_reset_at"] == first  # 1mo: the first of next month, as get_budget_reset_time
    assert after["expires"] is None and after["blocked"] is False
    assert after["metadata"] == {"note": "b", "service_account_id": "svc"}  # the reserved field is kept
    refused = cli("key", "update", "k1", "--metadata", '{"service_account_id": "other"}')
    assert refused.code == 2 and "immutable" in refused.stderr
    lifetime = cli("key", "update", "k1", "--duration", "30d")
    assert lifetime.code == 0
    assert abs(row(db)["expires"] - (now + timedelta(days=30))) < timedelta(minutes=1)


def test_update_dry_run_exit_3_and_writes_nothing(cli, db: Database, raw: str) -> None:
    before = row(db)
    result = cli("key", "update", "k1", "--max-budget", "50", "--dry-run")
    assert result.code == 3 and "would be updated" in result.stdout, result
    assert row(db) == before
    assert db.value("""SELECT count(*) FROM "LiteLLM_AuditLog" WHERE action = 'updated'
                       AND table_name = 'LiteLLM_VerificationToken'""") == 0
    assert cli("key", "update", "k1", "--max-budget", "10", "--dry-run").code == 0  # nothing would change


def test_update_holds_a_team_key_to_its_team(cli, db: Database, raw: str) -> None:
    over = cli("key", "update", "k1", "--max-budget", "500")
    assert over.code == 2 and over.stderr.startswith("dbctl: error: --max-budget: 500 is above the max_budget 100")
    tpm = cli("key", "update", "k1", "--tpm-limit", "5000")
    assert tpm.code == 2 and "--tpm-limit" in tpm.stderr
    not_member = cli("key", "update", "k1", "--team", "ops")
    assert not_member.code == 2 and "not a member of team 'ops'" in not_member.stderr
    models = cli("key", "update", "k1", "--team", "labs", "--models", "mistral")
    assert models.code == 2 and "--models" in models.stderr
    assert row(db)["team_id"] == "t1" and row(db)["max_budget"] == 10


def test_update_no_team_takes_a_key_out_of_its_team_as_an_explicit_null_team_id_does(
        cli, db: Database, raw: str) -> None:
    assert cli("key", "create", "--user", "ada", "--team", "research", "--alias", "k2").code == 0
    out = cli("key", "update", "k2", "--no-team", "--json")
    assert out.code == 0 and out.json()["changed"] == {"team_id": {"before": "t1", "after": None}}, out
    assert (row(db, "k2")["team_id"], row(db, "k2")["user_id"]) == (None, "ada")
    assert cli("key", "update", "k2", "--no-team", "--json").json()["action"] == "unchanged"
    service = cli("key", "update", "k1", "--no-team")  # LiteLLM: team_id is required for service account keys
    assert service.code == 2 and "service account key keeps its team" in service.stderr, service
    assert cli("key", "create", "--team", "ops", "--alias", "k3").code == 0
    ownerless = cli("key", "update", "k3", "--no-team")
    assert ownerless.code == 2 and "would have no owner" in ownerless.stderr, ownerless
    both = cli("key", "update", "k2", "--team", "labs", "--no-team")
    assert both.code == 2 and "--team and --no-team: give one" in both.stderr
    assert (row(db)["team_id"], row(db, "k3")["team_id"]) == ("t1", "t3")


def test_update_alias_must_be_unused(cli, db: Database, raw: str) -> None:
    assert cli("key", "create", "--user", "ada", "--alias", "k2").code == 0
    taken = cli("key", "update", "k1", "--alias", "k2")
    assert taken.code == 2 and "already in use" in taken.stderr


@pytest.mark.parametrize("args", [
    ["--max-budget", "nan"], ["--max-budget", "inf"], ["--max-budget", "-1"], ["--tpm-limit", "-1"],
    ["--tpm-limit", "99999999999999999999"],
    ["--alias", "a\x00b"], ["--team", "ghost"], ["--budget-duration", "2mo"], ["--budget-duration", "forever"],
    ["--duration", "0s"], ["--metadata", "[1]"], ["--metadata", "{"], ["--models", "a\x00"], [],
])
def test_update_bad_values_exit_2_in_one_line(cli, db: Database, raw: str, args: list[str]) -> None:
    before = row(db)
    result = cli("key", "update", "k1", *args)
    assert result.code == 2, result
    assert result.stderr.startswith("dbctl: error: ") and "Traceback" not in result.stderr
    assert len([ln for ln in result.stderr.splitlines() if ln.startswith("dbctl: error")]) == 1
    assert row(db) == before


def test_rotate_then_authenticate_by_litellms_rule(cli, db: Database, raw: str) -> None:
    old = sha(raw)
    before = row(db)
    result = cli("key", "rotate", "k1", "--json")
    assert result.code == 0, result
    out = result.json()
    new = out["key"]
    assert new.startswith("sk-") and new != raw and result.stdout.count(new) == 1
    assert out["token"] == sha(new) and out["old_token"] == old and out["key_name"] == "sk-..." + new[-4:]
    after = row(db)
    assert after["token"] == sha(new)  # the proxy's check: SHA-256 hex of the bearer key is the token
    assert after["key_name"] == "sk-..." + new[-4:]
    assert changed(before, after) == {"token", "key_name"}  # alias, owner, budgets, spend, limits: the same
    assert db.value('SELECT count(*) FROM "LiteLLM_VerificationToken" WHERE token = %s', [old]) == 0
    archived = db.query('SELECT * FROM "LiteLLM_DeletedVerificationToken"')
    assert [(a["token"], a["key_alias"], a["spend"], a["deleted_by"]) for a in archived] == [(old, "k1", 3.5, "dbctl")]
    audit = db.query("""SELECT * FROM "LiteLLM_AuditLog" WHERE action = 'rotated'""")
    assert len(audit) == 1 and audit[0]["object_id"] == old
    everything = str(db.query('SELECT * FROM "LiteLLM_AuditLog"')) + str(archived) + str(after)
    assert new not in everything and raw not in everything
    assert cli("key", "info", raw).code == 2  # the old raw key names nothing now
    assert cli("key", "info", new, "--json").json()["token"] == sha(new)
    plain_run = cli("key", "rotate", "k1")
    newest = plain_run.stdout.strip()
    assert plain_run.code == 0 and newest.startswith("sk-") and row(db)["token"] == sha(newest)
    assert "sk-" not in plain_run.stderr


def test_rotate_dry_run_and_unknown_key(cli, db: Database, raw: str) -> None:
    result = cli("key", "rotate", "k1", "--dry-run", "--json")
    assert result.code == 3 and result.json()["key"] is None
    assert row(db)["token"] == sha(raw)
    assert db.value('SELECT count(*) FROM "LiteLLM_DeletedVerificationToken"') == 0
    assert cli("key", "rotate", "nope").code == 2


def test_rotate_repoints_access_groups(cli, db: Database, raw: str) -> None:
    fx.insert(db, "LiteLLM_AccessGroupTable", access_group_id="g1", access_group_name="g1",
              assigned_key_ids=[sha(raw)], created_by="t", updated_by="t")
    new = cli("key", "rotate", "k1").stdout.strip()
    assert db.value('SELECT assigned_key_ids FROM "LiteLLM_AccessGroupTable"') == [sha(new)]


def test_info_shows_everything_but_the_raw_key(cli, db: Database, raw: str) -> None:
    used = datetime(2026, 5, 1, 12, 0)
    db.execute("""UPDATE "LiteLLM_VerificationToken" SET last_active = %s,
                  budget_limits = '[{"budget_duration": "1h", "max_budget": 1.0, "reset_at": "2026-05-01T13:00:00"}]'""",
               [used])
    result = cli("key", "info", "k1", "--json")
    assert result.code == 0, result
    info = result.json()
    assert (info["user_id"], info["user_email"], info["team_id"], info["team_alias"]) == \
        ("ada", "ada@example.com", "t1", "research")
    assert (info["spend"], info["max_budget"], info["budget_duration"], info["tpm_limit"], info["rpm_limit"]) == \
        (3.5, 10.0, "1d", 100, 10)
    assert info["budget_reset_at"] and info["expires"] and info["expired"] is False and info["blocked"] is False
    assert info["last_active"].startswith("2026-05-01T12:00:00") and info["budget_limits"][0]["budget_duration"] == "1h"
    for output in ("table", "csv", "json"):
        shown = cli("key", "info", sha(raw)[:10], "--output", output)
        assert shown.code == 0 and raw not in shown.stdout and "k1" in shown.stdout
    assert "budget windows" in cli("key", "info", "k1").stdout
    assert cli("key", "info", "ghost").code == 2


def keys(db: Database, n: int, prefix: str, **columns: object) -> list[str]:
    tokens = [sha(f"{prefix}-{i}") for i in range(n)]
    for i, token in enumerate(tokens):
        fx.key(db, token, key_alias=f"{prefix}-{i}", **columns)
    return tokens


def test_list_expired_and_unused_since(cli, db: Database) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    keys(db, 2, "gone", expires=now - timedelta(days=40))
    keys(db, 1, "live", expires=now + timedelta(days=40), last_active=now - timedelta(days=1))
    keys(db, 1, "idle", last_active=now - timedelta(days=200))
    keys(db, 1, "never", created_at=now - timedelta(days=200))
    expired = cli("key", "list", "--expired", "--json")
    assert expired.code == 0 and sorted(k["key_alias"] for k in expired.json()) == ["gone-0", "gone-1"]
    unused = cli("key", "list", "--unused-since", "90d", "--json").json()
    assert sorted(k["key_alias"] for k in unused) == ["idle-0", "never-0"] and "last_active" in unused[0]
    both = cli("key", "list", "--expired", "--alias", "gone-1", "--json").json()
    assert [k["key_alias"] for k in both] == ["gone-1"]
    assert cli("key", "list", "--unused-since", "tomorrow").code == 2
    assert cli("key", "list", "--unused-since", "bogus").code == 2


def test_prune_expired_keeps_each_key_as_key_delete_does(cli, db: Database) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    old = keys(db, 5, "old", expires=now - timedelta(days=60), spend=1.25)
    recent = keys(db, 2, "recent", expires=now - timedelta(days=3))
    keys(db, 2, "live", expires=now + timedelta(days=3))
    dry = cli("key", "prune", "--expired-before", "30d", "--dry-run", "--json")
    assert dry.code == 3 and dry.json()["deleted"] == 5 and dry.json()["dry_run"] is True
    assert db.value('SELECT count(*) FROM "LiteLLM_VerificationToken"') == 9
    assert db.value('SELECT count(*) FROM "LiteLLM_DeletedVerificationToken"') == 0
    done = cli("key", "prune", "--expired-before", "30d", "--batch-size", "2", "--json")
    assert done.code == 0, done
    assert (done.json()["deleted"], done.json()["batches"]) == (5, 3)
    left = {r["token"] for r in db.query('SELECT token FROM "LiteLLM_VerificationToken"')}
    assert not left & set(old) and set(recent) <= left and len(left) == 4
    archived = db.query('SELECT token, spend, expires, deleted_by, deleted_at FROM "LiteLLM_DeletedVerificationToken"')
    assert sorted(a["token"] for a in archived) == sorted(old) and {a["spend"] for a in archived} == {1.25}
    assert db.value("""SELECT count(*) FROM "LiteLLM_AuditLog" WHERE action = 'deleted'""") == 5
    assert cli("key", "prune", "--expired-before", "30d").code == 0  # nothing left to do


def test_prune_unused_since(cli, db: Database) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    idle = keys(db, 2, "idle", last_active=now - timedelta(days=120))
    never = keys(db, 1, "never", created_at=now - timedelta(days=120))
    keys(db, 1, "busy", last_active=now - timedelta(days=2), created_at=now - timedelta(days=400))
    keys(db, 1, "fresh", created_at=now - timedelta(days=2))
    result = cli("key", "prune", "--unused-since", "90d", "--json")
    assert result.code == 0, result
    assert sorted(k["token"] for k in result.json()["keys"]) == sorted(idle + never)
    assert db.value('SELECT count(*) FROM "LiteLLM_VerificationToken"') == 2


@pytest.mark.parametrize("args", [[], ["--expired-before", "30d", "--unused-since", "30d"],
                                  ["--expired-before", "tomorrow"], ["--unused-since", "all"],
                                  ["--expired-before", "2026-13-01"], ["--expired-before", "1\x00d"],
                                  ["--expired-before", "30d", "--batch-size", "0"]])
def test_prune_bad_values_exit_2(cli, db: Database, args: list[str]) -> None:
    result = cli("key", "prune", *args)
    assert result.code == 2 and result.stderr.startswith("dbctl: error: ") and "Traceback" not in result.stderr


def test_prune_killed_midway_is_finished_by_a_rerun(cli, db: Database) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    doomed = keys(db, 25, "old", expires=now - timedelta(days=60))
    keys(db, 3, "live", expires=now + timedelta(days=60))
    killed_at("KEY_PRUNE_BATCH", ["--database-url", db.url, "key", "prune", "--expired-before", "30d",
                                   "--batch-size", "10"])  # the first batch is committed
    assert db.value('SELECT count(*) FROM "LiteLLM_VerificationToken"') == 28 - 10
    assert db.value('SELECT count(*) FROM "LiteLLM_DeletedVerificationToken"') == 10  # each with its row gone
    again = cli("key", "prune", "--expired-before", "30d", "--batch-size", "10", "--json")
    assert again.code == 0 and again.json()["deleted"] == 15, again
    archived = [r["token"] for r in db.query('SELECT token FROM "LiteLLM_DeletedVerificationToken"')]
    assert sorted(archived) == sorted(doomed)  # every key kept once, none twice
    assert db.value('SELECT count(*) FROM "LiteLLM_VerificationToken"') == 3


@needs_redis
def test_rotate_drops_the_old_tokens_cached_copy(cli, db: Database, raw: str, namespace: str) -> None:
    old = sha(raw)
    with plain() as redis:
        redis.set(f"{namespace}:{old}", "{}")
    result = cli("key", "rotate", "k1", "--redis-url", REDIS, "--redis-namespace", namespace)
    assert result.code == 0, result
    with plain() as redis:
        assert redis.get(f"{namespace}:{old}") is None  # a proxy no longer serves the old key from its cache
    assert db.value("SELECT count(*) FROM dbctl_pending_invalidations") == 0


@needs_redis
def test_rotate_killed_after_its_commit_leaves_the_old_tokens_invalidation_owed(
        cli, db: Database, raw: str, namespace: str) -> None:
    old = sha(raw)
    with plain() as redis:
        redis.set(f"{namespace}:{old}", "{}")
    printed = killed_after_commit(["--database-url", db.url, "key", "rotate", "k1", "--redis-url", REDIS,
                                   "--redis-namespace", namespace])
    assert printed == ""  # killed before the key was shown: rotating again is the way back
    assert row(db)["token"] != old
    owed = db.query("SELECT command, refs FROM dbctl_pending_invalidations")
    assert [(o["command"], [tuple(r[:2]) for r in o["refs"]]) for o in owed] == [("key rotate", [("key", old)])]
    again = cli("key", "rotate", "k1", "--redis-url", REDIS, "--redis-namespace", namespace)
    assert again.code == 0, again
    with plain() as redis:
        assert redis.get(f"{namespace}:{old}") is None
    assert db.value("SELECT count(*) FROM dbctl_pending_invalidations") == 0


@needs_redis
def test_prune_drops_the_pruned_keys_cached_copies(cli, db: Database, namespace: str) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    doomed = keys(db, 3, "old", expires=now - timedelta(days=60))
    with plain() as redis:
        for token in doomed:
            redis.set(f"{namespace}:{token}", "{}")
    result = cli("key", "prune", "--expired-before", "30d", "--batch-size", "2", "--redis-url", REDIS,
                 "--redis-namespace", namespace)
    assert result.code == 0, result
    with plain() as redis:
        assert [redis.get(f"{namespace}:{t}") for t in doomed] == [None, None, None]
    assert db.value("SELECT count(*) FROM dbctl_pending_invalidations") == 0
