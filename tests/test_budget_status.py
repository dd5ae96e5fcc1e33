"""`dbctl budget status`: spend against budget, flags, filters, sorting, --fail-over."""

from __future__ import annotations

from datetime import datetime

import fix_budget as fx
from helpers import Database


def seed(db: Database) -> None:
    fx.tier(db, "org-tier", max_budget=1000.0, budget_duration="1d", budget_reset_at=datetime(2020, 1, 1))
    fx.org(db, "acme", "org-tier", spend=10.0)
    fx.team(db, "research", team_alias="Research", organization_id="acme", spend=90.0, max_budget=100.0,
            soft_budget=95.0, budget_duration="1mo", budget_reset_at=datetime(2999, 1, 1))
    fx.team(db, "ops", spend=10.0, max_budget=100.0)
    fx.key(db, "k-over", key_alias="over", team_id="research", spend=12.0, max_budget=10.0)
    fx.tier(db, "tier", soft_budget=4.0)
    fx.key(db, "k-soft", key_alias="soft", spend=5.0, max_budget=100.0, budget_id="tier")
    fx.key(db, "k-free", key_alias="free", spend=50.0)  # no budget: shown only with --all
    fx.key(db, "k-expired", spend=50.0, max_budget=1.0, expires=datetime(2020, 1, 1))
    fx.user(db, "alice", teams=["research"], spend=0.0, max_budget=0.0)  # a zero budget: over at once
    fx.end_user(db, "customer", spend=3.0)
    fx.tier(db, "eu-default", max_budget=4.0)


def test_status_sorted_and_flagged(cli, db: Database) -> None:
    seed(db)
    result = cli("budget", "status", "--json")
    assert result.code == 0, result
    rows = result.json()
    assert [(r["entity"], r["id"], r["flag"]) for r in rows] == [
        ("user", "alice", "over"), ("key", "k-over", "over"), ("team", "research", "near"),
        ("team", "ops", "ok"), ("key", "k-soft", "soft"), ("org", "acme", "ok")]
    by_id = {r["id"]: r for r in rows}
    assert by_id["k-over"]["used_pct"] == 120.0
    assert by_id["alice"]["used_pct"] is None
    assert by_id["acme"]["reset_overdue"] is True and by_id["research"]["reset_overdue"] is False
    assert by_id["k-soft"]["soft_budget"] == 4.0  # a key's soft budget lives on its tier

    everything = {r["id"] for r in cli("budget", "status", "--all", "--json").json()}
    assert "k-free" in everything and "k-expired" not in everything
    with_default = cli("budget", "status", "--end-user-budget", "eu-default", "--type", "end_user", "--json").json()
    assert [(r["id"], r["used_pct"], r["flag"]) for r in with_default] == [("customer", 75.0, "ok")]


def test_filters(cli, db: Database) -> None:
    seed(db)
    team = {(r["entity"], r["id"]) for r in cli("budget", "status", "--team", "research", "--json").json()}
    assert team == {("team", "research"), ("key", "k-over"), ("user", "alice")}
    org = {(r["entity"], r["id"]) for r in cli("budget", "status", "--org", "acme", "--json").json()}
    assert org == {("team", "research"), ("key", "k-over"), ("org", "acme")}
    keys = {r["id"] for r in cli("budget", "status", "-t", "key", "-t", "team", "--over", "--json").json()}
    assert keys == {"k-over"}
    flagged = {r["id"] for r in cli("budget", "status", "--flagged", "--near", "85", "--json").json()}
    assert flagged == {"alice", "k-over", "research", "k-soft"}
    assert len(cli("budget", "status", "--limit", "2", "--json").json()) == 2
    assert cli("budget", "status", "--type", "planet").code == 2


def test_fail_over_for_monitoring(cli, db: Database) -> None:
    seed(db)
    failed = cli("budget", "status", "--fail-over", "-q")
    assert failed.code == 3 and failed.stdout == "" and "2 entities over budget" in failed.stderr
    assert cli("budget", "status", "--fail-over", "--type", "org").code == 0
    table = cli("budget", "status")
    assert table.code == 0 and "over" in table.stdout and "(overdue)" in table.stdout
    assert "6 entities, 2 over budget" in table.stdout


def test_org_includes_its_members(cli, db: Database) -> None:
    """`--org` lists the organization's users whether LiteLLM_OrganizationMembership (where LiteLLM and
    `org provision` record them) or the user's own organization_id makes them members, each once."""
    assert cli("user", "provision", "--user-id", "ada", "--max-budget", "10").code == 0
    db.execute("""UPDATE "LiteLLM_UserTable" SET spend = 20 WHERE user_id = 'ada'""")
    assert cli("org", "provision", "--org-id", "acme", "--alias", "acme", "--member", "ada").code == 0

    shown = cli("budget", "status", "--org", "acme", "--json")
    assert shown.code == 0, shown
    assert [(r["entity"], r["id"], r["flag"], r["org_id"]) for r in shown.json()] == [("user", "ada", "over", "acme")]
    failed = cli("budget", "status", "--org", "acme", "--fail-over", "-q")
    assert failed.code == 3 and failed.stdout == "" and "1 entity over budget" in failed.stderr

    # A member by both routes is listed once; one by organization_id alone still counts; a member of
    # another organization does not.
    fx.user(db, "bob", spend=5.0, max_budget=1.0, organization_id="acme")
    fx.user(db, "cy", spend=5.0, max_budget=1.0)
    db.execute("""UPDATE "LiteLLM_UserTable" SET organization_id = 'acme' WHERE user_id = 'ada'""")
    assert cli("org", "provision", "--org-id", "other", "--alias", "other", "--member", "cy").code == 0
    users = [r["id"] for r in cli("budget", "status", "--org", "acme", "--type", "user", "--json").json()]
    assert sorted(users) == ["ada", "bob"]
    assert [r["id"] for r in cli("budget", "status", "--org", "other", "--json").json()] == ["cy"]
    # The organization's teams and their memberships stay in, as before.
    fx.team(db, "lab", organization_id="acme", spend=1.0, max_budget=100.0)
    fx.tier(db, "member-tier", max_budget=2.0)
    db.execute("""INSERT INTO "LiteLLM_TeamMembership" (user_id, team_id, spend, budget_id)
                  VALUES ('cy', 'lab', 3.0, 'member-tier')""")
    org = {(r["entity"], r["id"]) for r in cli("budget", "status", "--org", "acme", "--json").json()}
    assert org == {("user", "ada"), ("user", "bob"), ("team", "lab"), ("team_member", "cy")}
