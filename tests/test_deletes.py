"""`dbctl user delete|offboard`, `team delete`, `org delete` against rows provisioned by dbctl (LiteLLM's
shape, issue 22 item 2): what LiteLLM 1.109.1's delete endpoints cascade, archive and refuse; offboarding
clears all three places a team membership lives, blocks the keys and keeps the spend; a dry run writes
nothing; a run killed before its COMMIT changes nothing, one killed after it leaves its Redis work to the
next run."""

from __future__ import annotations

import json
import time

import pytest
from fix_provision import fingerprint, write
from fix_redis import REDIS, Subscriber, needs_redis, plain
from helpers import Database, killed_after_commit, killed_at

from litellm_dbctl.cache import invalidate as cache

# Ada: in two teams (admin of research, member of labs) and organization acme; bob: in research.
SPEC = """\
organizations:
  - organization_id: o1
    organization_alias: acme
teams:
  - team_id: t1
    team_alias: research
    organization_id: o1
  - team_id: t2
    team_alias: labs
users:
  - user_id: ada
    user_email: ada@example.com
    teams: ["research:admin", labs]
    organizations: ["acme:org_admin"]
  - user_id: bob
    user_email: bob@example.com
    teams: [research]
"""


def token(cli, *args: str) -> str:
    created = cli("key", "create", *args, "--json")
    assert created.code == 0, created
    return str(created.json()["token"])


@pytest.fixture
def world(cli, db: Database, tmp_path) -> dict[str, str]:
    """The spec applied, keys for ada (one in research, one personal) and bob (research), some spend."""
    applied = cli("provision", "apply", write(tmp_path, SPEC))
    assert applied.code == 0, applied
    keys = {"ada-research": token(cli, "--user", "ada", "--team", "research", "--alias", "ada-research"),
            "ada-own": token(cli, "--user", "ada", "--alias", "ada-own"),
            "bob-research": token(cli, "--user", "bob", "--team", "research", "--alias", "bob-research")}
    db.execute("""UPDATE "LiteLLM_VerificationToken" SET spend = 2.5""")
    db.execute("""UPDATE "LiteLLM_UserTable" SET spend = 5 WHERE user_id = 'ada'""")
    db.execute("""UPDATE "LiteLLM_TeamMembership" SET spend = 1.25 WHERE user_id = 'ada'""")
    return keys


def memberships(db: Database, user: str) -> dict[str, object]:
    """Every place LiteLLM keeps a membership of `user`."""
    return {
        "rosters": [r["team_id"] for r in db.query(
            """SELECT team_id FROM "LiteLLM_TeamTable" WHERE members_with_roles @> %s::jsonb ORDER BY team_id""",
            [json.dumps([{"user_id": user}])])],
        "teams": db.value("""SELECT teams FROM "LiteLLM_UserTable" WHERE user_id = %s""", [user]),
        "team_rows": db.value("""SELECT count(*) FROM "LiteLLM_TeamMembership" WHERE user_id = %s""", [user]),
        "org_rows": db.value("""SELECT count(*) FROM "LiteLLM_OrganizationMembership" WHERE user_id = %s""", [user]),
    }


def audit(db: Database, action: str, table: str) -> list[str]:
    return sorted(r["object_id"] for r in db.query(
        """SELECT object_id FROM "LiteLLM_AuditLog" WHERE action = %s AND table_name = %s""", [action, table]))


NONE = {"rosters": [], "teams": [], "team_rows": 0, "org_rows": 0}


def test_offboard_clears_every_membership_blocks_keys_and_keeps_spend(cli, db: Database, world) -> None:
    assert memberships(db, "ada") == {"rosters": ["t1", "t2"], "teams": ["t1", "t2"], "team_rows": 2, "org_rows": 1}
    result = cli("user", "offboard", "ada@example.com", "--actor", "hr", "--json")
    assert result.code == 0, result
    out = result.json()
    assert out["summary"]["delete"] == 3 and out["summary"]["update"] == 2  # 2 teams + 1 org; 2 keys
    assert memberships(db, "ada") == {**NONE, "teams": []}
    assert memberships(db, "bob")["rosters"] == ["t1"]  # the other member stays
    blocked = {r["key_alias"]: bool(r["blocked"]) for r in db.query(
        """SELECT key_alias, blocked, spend FROM "LiteLLM_VerificationToken" ORDER BY key_alias""")}
    assert blocked == {"ada-own": True, "ada-research": True, "bob-research": False}
    assert db.value("""SELECT spend FROM "LiteLLM_UserTable" WHERE user_id = 'ada'""") == 5  # kept
    assert db.value("""SELECT sum(spend) FROM "LiteLLM_VerificationToken" WHERE user_id = 'ada'""") == 5
    assert audit(db, "blocked", "LiteLLM_VerificationToken") == sorted([world["ada-own"], world["ada-research"]])
    assert db.value("""SELECT count(*) FROM "LiteLLM_AuditLog" WHERE changed_by = 'hr'""") >= 5
    again = cli("user", "offboard", "ada", "--json")  # a second run finds nothing to do
    assert again.code == 0 and again.json()["summary"]["changed"] == 0 and again.json()["rows_written"] == 0


def test_dry_run_writes_nothing_and_exits_3(cli, db: Database, world) -> None:
    before = fingerprint(db)
    for args in (["user", "offboard", "ada"], ["user", "delete", "ada"], ["team", "delete", "research"],
                 ["org", "delete", "acme"]):
        result = cli(*args, "--dry-run")
        assert result.code == 3, (args, result)
        assert "delete" in result.stdout
        assert fingerprint(db) == before, args
    assert db.value("""SELECT count(*) FROM "LiteLLM_DeletedVerificationToken" """) == 0


def test_user_delete_as_user_delete_writes_it(cli, db: Database, world) -> None:
    db.execute("""INSERT INTO "LiteLLM_InvitationLink" (id, user_id, is_accepted, expires_at, created_at, created_by,
                  updated_at, updated_by) VALUES ('inv1', 'bob', false, now(), now(), 'ada', now(), 'ada')""")
    result = cli("user", "delete", "ada@example.com", "--json")
    assert result.code == 0, result
    assert db.value("""SELECT count(*) FROM "LiteLLM_UserTable" WHERE user_id = 'ada'""") == 0
    assert memberships(db, "ada") == {**NONE, "teams": None}
    assert memberships(db, "bob")["rosters"] == ["t1"]
    archived = db.query("""SELECT token, spend, deleted_by FROM "LiteLLM_DeletedVerificationToken" ORDER BY token""")
    assert [r["token"] for r in archived] == sorted([world["ada-own"], world["ada-research"]])
    assert {r["spend"] for r in archived} == {2.5} and {r["deleted_by"] for r in archived} == {"dbctl"}
    assert db.value("""SELECT count(*) FROM "LiteLLM_VerificationToken" WHERE user_id = 'ada'""") == 0
    assert db.value("""SELECT count(*) FROM "LiteLLM_InvitationLink" """) == 0  # RESTRICT foreign keys
    assert audit(db, "deleted", "LiteLLM_UserTable") == ["ada"]
    before = db.value("""SELECT before_value FROM "LiteLLM_AuditLog" WHERE table_name = 'LiteLLM_UserTable'
                         AND action = 'deleted'""")
    assert before["user_email"] == "ada@example.com" and before["spend"] == 5
    assert audit(db, "deleted", "LiteLLM_VerificationToken") == sorted([world["ada-own"], world["ada-research"]])
    unknown = cli("user", "delete", "ada")
    assert unknown.code == 2 and "ada" in unknown.stderr


def test_team_delete_cascades_and_archives(cli, db: Database, world) -> None:
    db.execute("""UPDATE "LiteLLM_TeamTable" SET spend = 7 WHERE team_id = 't1'""")
    db.execute("""INSERT INTO "LiteLLM_ProxyModelTable" (model_id, model_name, litellm_params, model_info, created_by,
                  updated_by) VALUES ('m1', 'model_name_t1_gpt', '{}', '{"team_id": "t1"}', 'x', 'x'),
                  ('m2', 'gpt-shared', '{}', '{}', 'x', 'x')""")
    result = cli("team", "delete", "research")
    assert result.code == 0, result
    assert db.value("""SELECT count(*) FROM "LiteLLM_TeamTable" WHERE team_id = 't1'""") == 0
    kept = db.query("""SELECT team_alias, spend, members_with_roles, deleted_by FROM "LiteLLM_DeletedTeamTable" """)
    assert len(kept) == 1 and kept[0]["team_alias"] == "research" and kept[0]["spend"] == 7
    assert {m["user_id"] for m in kept[0]["members_with_roles"]} == {"ada", "bob"}
    assert db.value("""SELECT count(*) FROM "LiteLLM_VerificationToken" WHERE team_id = 't1'""") == 0
    assert db.value("""SELECT count(*) FROM "LiteLLM_DeletedVerificationToken" """) == 2  # ada's and bob's team keys
    assert db.value("""SELECT count(*) FROM "LiteLLM_VerificationToken" """) == 1  # ada's own key stays
    assert memberships(db, "ada") == {"rosters": ["t2"], "teams": ["t2"], "team_rows": 1, "org_rows": 1}
    assert memberships(db, "bob") == NONE
    assert [r["model_id"] for r in db.query("""SELECT model_id FROM "LiteLLM_ProxyModelTable" """)] == ["m2"]
    assert audit(db, "deleted", "LiteLLM_TeamTable") == ["t1"]


def test_team_delete_refused_while_it_holds_a_ptu_share(cli, db: Database, world) -> None:
    db.execute("""INSERT INTO "LiteLLM_ProxyModelTable" (model_id, model_name, litellm_params, model_info, created_by,
                  updated_by) VALUES ('ptu1', 'gpt-ptu', '{}', '{"ptu_shares": {"t1": 2, "t9": 1}}', 'x', 'x')""")
    before = fingerprint(db)
    for args in (["team", "delete", "t1"], ["org", "delete", "acme"]):
        result = cli(*args)
        assert result.code == 4, result
        assert "PTU share" in result.stderr and "ptu1" in result.stderr and "t1" in result.stderr
        assert fingerprint(db) == before
    assert cli("team", "delete", "labs").code == 0  # no share: deleted


def test_org_delete_deletes_its_teams_memberships_and_keys(cli, db: Database, world) -> None:
    org_key = token(cli, "--user", "bob", "--alias", "org-key")
    db.execute("""UPDATE "LiteLLM_VerificationToken" SET organization_id = 'o1' WHERE key_alias = 'org-key'""")
    db.execute("""UPDATE "LiteLLM_UserTable" SET organization_id = 'o1' WHERE user_id = 'bob'""")
    result = cli("org", "delete", "acme", "--json")
    assert result.code == 0, result
    assert db.value("""SELECT count(*) FROM "LiteLLM_OrganizationTable" """) == 0
    assert db.value("""SELECT count(*) FROM "LiteLLM_OrganizationMembership" """) == 0
    assert [r["team_id"] for r in db.query("""SELECT team_id FROM "LiteLLM_TeamTable" """)] == ["t2"]
    assert [r["team_id"] for r in db.query("""SELECT team_id FROM "LiteLLM_DeletedTeamTable" """)] == ["t1"]
    assert db.value("""SELECT organization_id FROM "LiteLLM_UserTable" WHERE user_id = 'bob'""") is None
    archived = {r["token"] for r in db.query("""SELECT token FROM "LiteLLM_DeletedVerificationToken" """)}
    assert archived == {world["ada-research"], world["bob-research"], org_key}
    assert memberships(db, "ada") == {"rosters": ["t2"], "teams": ["t2"], "team_rows": 1, "org_rows": 0}
    assert audit(db, "deleted", "LiteLLM_OrganizationTable") == ["o1"]


def test_a_delete_killed_before_its_commit_changes_nothing_and_reruns(cli, db: Database, world) -> None:
    before = fingerprint(db)
    killed_at("PROVISION_WRITTEN", ["--database-url", db.url, "user", "delete", "ada"])  # all written, no COMMIT
    deadline = time.monotonic() + 10
    while db.value("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'dbctl user delete%%'") \
            and time.monotonic() < deadline:  # the server notices the dead client
        time.sleep(0.05)
    assert fingerprint(db) == before
    again = cli("user", "delete", "ada")
    assert again.code == 0, again
    assert db.value("""SELECT count(*) FROM "LiteLLM_UserTable" WHERE user_id = 'ada'""") == 0
    assert db.value("""SELECT count(*) FROM "LiteLLM_DeletedVerificationToken" """) == 2


@needs_redis
def test_redis_invalidation_and_a_kill_after_commit(cli, db: Database, world, namespace: str) -> None:
    cached = ["ada", "team_id:t1", "team_alias:research", world["ada-own"]]
    with plain() as redis:
        for key in cached:
            redis.set(f"{namespace}:{key}", "{}")
        redis.set(f"{namespace}:spend:user:ada", "5")
    killed_after_commit(["--database-url", db.url, "user", "offboard", "ada", "--redis-url", REDIS,
                         "--redis-namespace", namespace])
    assert memberships(db, "ada") == {**NONE, "teams": []}  # committed
    assert db.value("SELECT count(*) FROM dbctl_pending_invalidations") == 1
    with plain() as redis:
        assert redis.get(f"{namespace}:ada") == "{}"  # the kill came first
    subscriber = Subscriber(f"{namespace}:{cache.CHANNEL}")
    try:
        again = cli("team", "delete", "research", "--redis-url", REDIS, "--redis-namespace", namespace)
    finally:
        time.sleep(0.3)
        subscriber.close()
    assert again.code == 0, again
    assert set(cached) <= {m["cache_key"] for m in subscriber.messages}
    with plain() as redis:
        assert [redis.get(f"{namespace}:{key}") for key in cached] == [None] * len(cached)
        assert redis.get(f"{namespace}:spend:user:ada") == "5"  # spend counters are never touched
    assert db.value("SELECT count(*) FROM dbctl_pending_invalidations") == 0


@pytest.mark.parametrize("args", [["user", "delete", "nobody"], ["team", "delete", "reserch"],
                                  ["org", "delete", "acm"], ["user", "offboard", "nobody@example.com"]])
def test_unknown_names_exit_2(cli, db: Database, world, args: list[str]) -> None:
    result = cli(*args)
    assert result.code == 2 and result.stderr.startswith("dbctl: error: ") and "Traceback" not in result.stderr


def test_joined_plans_lock_each_row_once_in_apply_order() -> None:
    from datetime import datetime, timezone

    from litellm_dbctl.cache.invalidate import EntityRef
    from litellm_dbctl.provision import retire
    from litellm_dbctl.provision.plan import DELETE, Item, Plan, Step, lock_set

    now = datetime.now(timezone.utc)
    a = Plan((Item("team_member", "u@t2", "u in t2", DELETE),), (Step("team/update_many", ({"team_id": "t2"},)),),
             (lock_set("team", {"t2": "x"}), lock_set("user", {"u": "s"})), ("t2",),
             (EntityRef("user", "u"), EntityRef.team("t2")), now=now)
    b = Plan((Item("team_member", "u@t1", "u in t1", DELETE),), (Step("team/update_many", ({"team_id": "t1"},)),),
             (lock_set("user", {"u": "s"}), lock_set("team", {"t1": "y"})), ("t1",),
             (EntityRef("user", "u"), EntityRef.team("t1")), now=now)
    plan = retire.joined([a, b], now)
    assert [i.id for i in plan.items] == ["u@t2", "u@t1"] and len(plan.steps) == 2
    assert [(lock.query, dict(lock.expected)) for lock in plan.locks] == [
        ("team/lock_for_plan", {"t2": "x", "t1": "y"}), ("user/lock_for_plan", {"u": "s"})]
    assert plan.locks[0].params == {"ids": ["t1", "t2"]}  # sorted: the order LiteLLM's flush locks in
    assert plan.roster_locks == ("t1", "t2")
    assert plan.refs.count(EntityRef("user", "u")) == 1
