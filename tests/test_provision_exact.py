"""`provision apply --exact-members` and `--prune`: the pure diffs (no database), then through the CLI
against LiteLLM's rows: removals from every place, nothing outside the spec touched, a second apply
writing nothing, a dry run changing nothing."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from fix_provision import fingerprint, write
from hypothesis import given, settings
from hypothesis import strategies as st

from litellm_dbctl.common.errors import InvalidSpec
from litellm_dbctl.provision import planner, specs
from litellm_dbctl.provision.extras import Managed, Rosters
from litellm_dbctl.provision.plan import DELETE, MARK, Options
from litellm_dbctl.provision.proxy_settings import ProxySettings
from litellm_dbctl.provision.snapshot import Snapshot

NOW = datetime(2026, 3, 14, 9, 26, 53, tzinfo=timezone.utc)
EXACT = Options(exact_members=True)
PRUNE = Options(prune=True, managed=True)


def user_row(user_id: str, teams: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    return {"user_id": user_id, "user_email": f"{user_id}@example.com", "sso_user_id": None, "user_alias": None,
            "user_role": None, "max_budget": None, "budget_duration": None, "budget_reset_at": None, "models": [],
            "tpm_limit": None, "rpm_limit": None, "max_parallel_requests": None, "metadata": {},
            "teams": teams or [], "seen": "7", **fields}


def team_row(team_id: str, members: list[str], **fields: Any) -> dict[str, Any]:
    return {"team_id": team_id, "team_alias": team_id, "organization_id": None, "max_budget": None,
            "soft_budget": None, "budget_duration": None, "budget_reset_at": None, "models": [], "tpm_limit": None,
            "rpm_limit": None, "max_parallel_requests": None, "blocked": False, "team_member_permissions": [],
            "metadata": {}, "members_with_roles": [{"user_id": u, "user_email": f"{u}@example.com", "role": "user"}
                                                   for u in members], "seen": "8", **fields}


def spec_of(**sections: list[dict[str, Any]]) -> specs.Spec:
    return specs.from_records([(name, entry) for name, entries in sections.items() for entry in entries], "spec.yaml")


def exact_snapshot(members: list[str], listed: list[str]) -> Snapshot:
    """Team t holding `members` in all three places; the spec's users (`listed`) read as a plan reads them."""
    users = [user_row(u, ["t"]) for u in members]
    tms = [{"user_id": u, "team_id": "t", "budget_id": None, "seen": "9"} for u in members]
    base = Snapshot.of(teams=[team_row("t", members)], users=[u for u in users if u["user_id"] in listed],
                       team_members=[m for m in tms if m["user_id"] in listed])
    from dataclasses import replace

    return replace(base, rosters=Rosters.of(team_members=tms, users=users))


def plan_exact(members: list[str], listed: list[str]) -> Any:
    spec = spec_of(teams=[{"team_id": "t", "members_with_roles": [{"user_id": u} for u in listed]}])
    return planner.build(exact_snapshot(members, listed), spec, ProxySettings(), EXACT, NOW)


def test_exact_removes_unlisted_member_from_all_three_places() -> None:
    result = plan_exact(["alice", "bob"], ["alice"])
    deleted = [i for i in result.items if i.action == DELETE]
    assert [(i.kind, i.id) for i in deleted] == [("team_member", "bob@t")]
    assert {c.field for c in deleted[0].changes} == {"role", "LiteLLM_TeamMembership", "user.teams"}
    steps = {s.query: s for s in result.steps}
    assert [e["user_id"] for e in steps["team/update_many"].rows[0]["members_with_roles"]] == ["alice"]
    assert steps["provision/delete_memberships"].rows == ({"user_id": "bob", "team_id": "t"},)
    assert steps["provision/delete_memberships"].identifiers == {"table": "LiteLLM_TeamMembership", "group": "team_id"}
    assert [(r["user_id"], r["teams"]) for r in steps["user/update_many"].rows] == [("bob", [])]
    assert result.roster_locks == ("t",)


def test_without_the_flag_nothing_is_removed() -> None:
    spec = spec_of(teams=[{"team_id": "t", "members_with_roles": [{"user_id": "alice"}]}])
    result = planner.build(exact_snapshot(["alice", "bob"], ["alice"]), spec, ProxySettings(), Options(), NOW)
    assert not result.changed


@settings(max_examples=60, deadline=None)
@given(st.sets(st.sampled_from(["a", "b", "c", "d", "e"])), st.sets(st.sampled_from(["a", "b", "c", "d", "e"])))
def test_exact_keeps_exactly_the_listed(members: set[str], listed: set[str]) -> None:
    """Whoever is in the team and listed stays; the unlisted go; the listed who are not in it join."""
    result = plan_exact(sorted(members), sorted(listed))
    gone = {i.id.split("@")[0] for i in result.items if i.action == DELETE}
    assert gone == members - listed
    rosters = [s for s in result.steps if s.query == "team/update_many"]
    if members != listed:
        assert {e["user_id"] for e in rosters[0].rows[0]["members_with_roles"]} == listed
    else:
        assert not result.changed


def managed_snapshot(*objects: dict[str, Any], held: tuple[dict[str, Any], ...] = ()) -> Snapshot:
    from dataclasses import replace

    rows = tuple({"team_id": None, "user_id": None, "organization_id": None, **o} for o in objects)
    return replace(Snapshot.of(), managed=Managed(rows, held))


def test_prune_deletes_only_what_the_spec_dropped() -> None:
    snapshot = managed_snapshot({"kind": "team", "id": "t-old", "label": "old"},
                                {"kind": "key", "id": "tok1", "label": "k-old", "team_id": "t-old"},
                                {"kind": "key", "id": "tok2", "label": "k-kept"},
                                held=({"kind": "key", "id": "tok1", "label": "k-old", "team_id": "t-old",
                                       "user_id": None, "organization_id": None, "managed": True},))
    spec = spec_of(keys=[{"key_alias": "k-kept"}])
    result = planner.build(snapshot, spec, ProxySettings(), PRUNE, NOW)
    assert {(i.kind, i.id, i.action) for i in result.items if i.action == DELETE} == \
        {("team", "t-old", DELETE), ("key", "k-old", DELETE)}
    assert result.prune is not None and result.prune.keys == ("tok1",) and result.prune.teams == ("t-old",)
    assert result.prune.held == frozenset({("key", "tok1")})


def test_prune_refuses_a_team_holding_a_key_made_outside_a_spec() -> None:
    snapshot = managed_snapshot({"kind": "team", "id": "t-old", "label": "old"},
                                held=({"kind": "key", "id": "tok9", "label": "by-hand", "team_id": "t-old",
                                       "user_id": None, "organization_id": None, "managed": False},))
    with pytest.raises(InvalidSpec, match="by-hand"):
        planner.build(snapshot, spec_of(), ProxySettings(), PRUNE, NOW)


def test_created_objects_carry_the_mark_and_a_metadata_rewrite_keeps_it() -> None:
    spec = spec_of(teams=[{"team_id": "t", "metadata": {"a": 1}}], users=[{"user_id": "u"}])
    created = planner.build(Snapshot.of(), spec, ProxySettings(), Options(managed=True), NOW)
    rows = {s.query: s.rows for s in created.steps}
    assert rows["team/copy_in"][0]["metadata"] == {"a": 1, MARK: True}
    assert rows["user/copy_in"][0]["metadata"] == {MARK: True}
    again = Snapshot.of(teams=[team_row("t", ["u"], metadata={"a": 1, MARK: True})],
                        users=[user_row("u", ["t"], metadata={MARK: True})],
                        team_members=[{"user_id": "u", "team_id": "t", "budget_id": None, "seen": "9"}])
    spec = spec_of(teams=[{"team_id": "t", "metadata": {"a": 1}}], users=[{"user_id": "u", "teams": ["t"]}])
    assert not planner.build(again, spec, ProxySettings(), Options(managed=True), NOW).changed
    unmarked = Snapshot.of(teams=[team_row("t", [], metadata={"a": 1})])
    assert not planner.build(unmarked, spec_of(teams=[{"team_id": "t", "metadata": {"a": 1}}]), ProxySettings(),
                             Options(managed=True), NOW).changed  # never marked afterwards


# -- through the CLI ---------------------------------------------------------------------------

ROSTER = """\
organizations:
  - organization_id: org-acme
    organization_alias: acme
    members_with_roles:
      - {{user_id: alice, role: org_admin}}
{org_extra}
teams:
  - team_id: team-a
    members_with_roles:
      - {{user_id: alice, role: admin}}
{team_extra}
users:
  - {{user_id: alice, user_email: alice@example.com}}
  - {{user_id: bob, user_email: bob@example.com}}
"""
BOB_IN_ORG = "      - {user_id: bob, role: internal_user}"
BOB_IN_TEAM = "      - {user_id: bob, role: user}"


def test_exact_members_removes_everywhere_and_nothing_else(cli, db, tmp_path) -> None:
    assert cli("team", "provision", "--team-id", "team-other", "--member", "bob").code == 0
    full = write(tmp_path, ROSTER.format(org_extra=BOB_IN_ORG, team_extra=BOB_IN_TEAM), "full.yaml")
    assert cli("provision", "apply", full).code == 0
    assert db.value('SELECT teams FROM "LiteLLM_UserTable" WHERE user_id = %s', ["bob"]) == ["team-other", "team-a"]
    other = db.query('SELECT xmin::text AS x, members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = %s',
                     ["team-other"])[0]
    narrow = write(tmp_path, ROSTER.format(org_extra="", team_extra=""), "narrow.yaml")
    assert cli("provision", "apply", narrow).code == 0  # without the flag: nobody leaves

    before = fingerprint(db)
    dry = cli("provision", "apply", narrow, "--exact-members", "--dry-run")
    assert dry.code == 3, dry
    assert any(line.split()[:3] == ["delete", "team_member", "bob@team-a"] for line in dry.stdout.splitlines())
    assert "2 to remove" in dry.stdout
    assert fingerprint(db) == before
    assert cli("provision", "validate", narrow, "--exact-members").stdout.count("2 would change") == 1

    done = cli("provision", "apply", narrow, "--exact-members", "--json")
    assert done.code == 0, done
    team = db.query('SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = %s', ["team-a"])[0]
    assert [m["user_id"] for m in team["members_with_roles"]] == ["alice"]
    assert db.value('SELECT teams FROM "LiteLLM_UserTable" WHERE user_id = %s', ["bob"]) == ["team-other"]
    assert db.value('SELECT count(*) FROM "LiteLLM_TeamMembership" WHERE user_id = %s AND team_id = %s',
                    ["bob", "team-a"]) == 0
    assert db.value('SELECT count(*) FROM "LiteLLM_OrganizationMembership" WHERE user_id = %s', ["bob"]) == 0
    assert db.value('SELECT count(*) FROM "LiteLLM_TeamMembership" WHERE user_id = %s AND team_id = %s',
                    ["bob", "team-other"]) == 1
    after_other = db.query('SELECT xmin::text AS x, members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = %s',
                           ["team-other"])[0]
    assert after_other == other  # a team the spec does not list: untouched
    assert db.value("""SELECT count(*) FROM "LiteLLM_AuditLog" WHERE action = 'deleted'
                       AND table_name = 'LiteLLM_OrganizationMembership'""") == 1

    before = fingerprint(db)
    again = cli("provision", "apply", narrow, "--exact-members")
    assert again.code == 0 and "(0 changed, 0 rows written)" in again.stdout
    assert fingerprint(db) == before


MANAGED = """\
organizations:
  - {organization_id: org-old, organization_alias: old}
teams:
  - {team_id: team-old, organization_id: org-old}
  - {team_id: team-kept}
users:
  - {user_id: old-user, user_email: old@example.com, teams: [team-old]}
  - {user_id: kept-user, teams: [team-kept]}
keys:
  - {key_alias: old-key, team_id: team-old, user_id: old-user}
  - {key_alias: kept-key, team_id: team-kept}
"""
KEPT = """\
teams:
  - {team_id: team-kept}
users:
  - {user_id: kept-user, teams: [team-kept]}
keys:
  - {key_alias: kept-key, team_id: team-kept}
"""


def test_prune_deletes_what_a_spec_made_and_nothing_else(cli, db, tmp_path) -> None:
    assert cli("provision", "apply", write(tmp_path, MANAGED, "managed.yaml")).code == 0
    # made outside a spec: by flags, and as LiteLLM writes a team
    assert cli("user", "provision", "--user-id", "by-hand", "--team", "team-kept").code == 0
    assert cli("key", "create", "--alias", "hand-key", "--team", "team-kept").code == 0
    db.execute("""INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, metadata, created_at, updated_at)
                  VALUES ('proxy-team', 'proxy', '{}', now(), now())""")
    kept = write(tmp_path, KEPT, "kept.yaml")

    before = fingerprint(db)
    dry = cli("provision", "apply", kept, "--prune", "--dry-run")
    assert dry.code == 3, dry
    assert fingerprint(db) == before
    assert cli("provision", "validate", kept, "--prune").code == 0

    done = cli("provision", "apply", kept, "--prune", "--redis-url", "redis://127.0.0.1:1/0", "--json")
    # Redis unreachable after the commit: reported, and what is owed stays recorded for the next run
    assert done.code != 2, done
    assert db.value('SELECT count(*) FROM "LiteLLM_VerificationToken" WHERE key_alias = %s', ["old-key"]) == 0
    assert db.value('SELECT count(*) FROM "LiteLLM_DeletedVerificationToken" WHERE key_alias = %s', ["old-key"]) == 1
    assert db.value('SELECT count(*) FROM "LiteLLM_TeamTable" WHERE team_id = %s', ["team-old"]) == 0
    assert db.value('SELECT count(*) FROM "LiteLLM_DeletedTeamTable" WHERE team_id = %s', ["team-old"]) == 1
    assert db.value('SELECT count(*) FROM "LiteLLM_UserTable" WHERE user_id = %s', ["old-user"]) == 0
    assert db.value('SELECT count(*) FROM "LiteLLM_OrganizationTable" WHERE organization_id = %s', ["org-old"]) == 0
    assert db.value('SELECT count(*) FROM "LiteLLM_TeamMembership" WHERE user_id = %s', ["old-user"]) == 0
    assert db.value("""SELECT count(*) FROM "LiteLLM_AuditLog" WHERE action = 'deleted'""") >= 4
    for table, column, value in (("LiteLLM_UserTable", "user_id", "by-hand"),
                                 ("LiteLLM_VerificationToken", "key_alias", "hand-key"),
                                 ("LiteLLM_TeamTable", "team_id", "proxy-team"),
                                 ("LiteLLM_VerificationToken", "key_alias", "kept-key"),
                                 ("LiteLLM_UserTable", "user_id", "kept-user")):
        assert db.value(f'SELECT count(*) FROM "{table}" WHERE {column} = %s', [value]) == 1, value

    before = fingerprint(db)
    again = cli("provision", "apply", kept, "--prune")
    assert again.code == 0 and "(0 changed, 0 rows written)" in again.stdout, again
    assert fingerprint(db) == before


def test_prune_refuses_a_spec_team_holding_a_hand_made_key(cli, db, tmp_path) -> None:
    assert cli("provision", "apply", write(tmp_path, MANAGED, "managed.yaml")).code == 0
    assert cli("key", "create", "--alias", "hand-key", "--team", "team-old").code == 0
    before = fingerprint(db)
    refused = cli("provision", "apply", write(tmp_path, KEPT, "kept.yaml"), "--prune")
    assert refused.code == 2 and "hand-key" in refused.stderr, refused
    assert fingerprint(db) == before


def test_batch_size_with_exact_members_is_refused(cli, tmp_path) -> None:
    result = cli("provision", "apply", write(tmp_path, KEPT), "--exact-members", "--batch-size", "10")
    assert result.code == 2 and "--batch-size" in result.stderr
