"""The planner's pure steps, with no database: snapshots are built here from rows as the read
queries return them, and a plan is "applied" by turning its write steps back into rows.

Nothing here asks for a database fixture; these tests pass with no PostgreSQL reachable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litellm_dbctl.common import checks, keyrefs
from litellm_dbctl.common.errors import InvalidInput, InvalidSpec
from litellm_dbctl.provision import lookup, plan, planner, resolve, specs
from litellm_dbctl.provision.plan import CREATE, UNCHANGED, UPDATE, Options
from litellm_dbctl.provision.proxy_settings import DefaultTeam, ProxySettings
from litellm_dbctl.provision.snapshot import Snapshot

NOW = datetime(2026, 3, 14, 9, 26, 53, tzinfo=timezone.utc)
NO_SETTINGS = ProxySettings()


def spec_of(**sections: Sequence[Mapping[str, Any]]) -> specs.Spec:
    return specs.from_records([(name, entry) for name, entries in sections.items() for entry in entries], "spec.yaml")


def user_row(user_id: str, email: str | None = None, sso: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"user_id": user_id, "user_email": email, "sso_user_id": sso, "user_alias": None, "user_role": None,
            "max_budget": None, "budget_duration": None, "budget_reset_at": None, "models": [], "tpm_limit": None,
            "rpm_limit": None, "max_parallel_requests": None, "metadata": {}, "teams": [], "seen": "7", **fields}


def team_row(team_id: str, alias: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"team_id": team_id, "team_alias": alias, "organization_id": None, "max_budget": None, "soft_budget": None,
            "budget_duration": None, "budget_reset_at": None, "models": [], "tpm_limit": None, "rpm_limit": None,
            "max_parallel_requests": None, "blocked": False, "team_member_permissions": [], "metadata": {},
            "members_with_roles": [], "seen": "8", **fields}


def build(snapshot: Snapshot, spec: specs.Spec, proxy: ProxySettings = NO_SETTINGS,
          options: Options = Options()) -> plan.Plan:
    return planner.build(snapshot, spec, proxy, options, NOW)


def actions(result: plan.Plan) -> dict[tuple[str, str], str]:
    return {(item.kind, item.id): item.action for item in result.items}


# -- applying a plan in Python: its write steps back into the rows a later read returns -----------

KEYS = {"budget_row": ("budget_id",), "org": ("organization_id",), "team": ("team_id",), "user": ("user_id",),
        "key": ("token",)}
TABLES = {"budget_row/copy_in": "budgets", "budget_row/update_many": "budgets", "org/insert_many": "orgs",
          "org/update_many": "orgs", "team/copy_in": "teams", "team/update_many": "teams", "user/copy_in": "users",
          "user/update_many": "users", "team/copy_memberships": "team_members",
          "team/update_memberships": "team_members", "org/insert_memberships": "org_members",
          "org/update_memberships": "org_members", "key/insert_many": "keys", "key/update_many": "keys"}
IDS = {"budgets": ("budget_id",), "orgs": ("organization_id",), "teams": ("team_id",), "users": ("user_id",),
       "team_members": ("user_id", "team_id"), "org_members": ("user_id", "organization_id"), "keys": ("token",)}
BUDGET_NULLS = dict.fromkeys(plan.BUDGET_COLUMNS)


def applied(result: plan.Plan, tables: Mapping[str, list[dict[str, Any]]] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The tables after `result` is written (inserts appended, updates merged into their row),
    every row with a new `seen`, as the read queries would see them."""
    out = {name: [dict(r) for r in rows] for name, rows in (tables or {}).items()}
    for step in result.steps:
        name = TABLES.get(step.query)
        if name is None:  # the audit trail: never read back
            continue
        rows = out.setdefault(name, [])
        by_id = {tuple(r[k] for k in IDS[name]): r for r in rows}
        for row in step.rows:
            key = tuple(row[k] for k in IDS[name])
            if key in by_id:
                by_id[key].update(row)
            else:
                rows.append({**(BUDGET_NULLS if name == "budgets" else {}), **row})
                by_id[key] = rows[-1]
    for rows in out.values():
        for row in rows:
            row["seen"] = str(int(row.get("seen", "0")) + 1)
    return out


def snapshot_of(tables: Mapping[str, list[dict[str, Any]]], spec: specs.Spec) -> Snapshot:
    keys = tables.get("keys", [])
    chosen = {keyrefs.hash_key(k.raw_key) for k in spec.keys if k.raw_key}
    return Snapshot.of(orgs=tables.get("orgs", ()), teams=tables.get("teams", ()), users=tables.get("users", ()),
                       keys=keys, taken_tokens=[k for k in keys if k["token"] in chosen],
                       team_members=tables.get("team_members", ()), org_members=tables.get("org_members", ()),
                       budgets=tables.get("budgets", ()))


# -- lookups ----------------------------------------------------------------------------------


def test_a_user_is_found_by_id_then_sso_id_then_email() -> None:
    users = lookup.Users.of([user_row("u1", "Ada@X.com"), user_row("u2", "bob@x.com", "sso-b")])
    assert users.match("u1", "sso-b", "bob@x.com") == (users.by_id["u1"], "user_id")
    assert users.match("nope", "sso-b", "ada@x.com") == (users.by_id["u2"], "sso_user_id")
    assert users.match(None, None, "ADA@x.com") == (users.by_id["u1"], "user_email")
    assert users.match("nope", "nope", "nope@x.com") is None


def test_an_email_two_users_share_is_ambiguous() -> None:
    users = lookup.Users.of([user_row("u1", "ada@x.com"), user_row("u2", "ADA@x.com")])
    with pytest.raises(lookup.Ambiguous) as raised:
        users.match(None, None, "ada@x.com")
    assert {r["user_id"] for r in raised.value.rows} == {"u1", "u2"}
    assert users.match("u2", None, "ada@x.com") == (users.by_id["u2"], "user_id")  # an id decides


def test_a_team_is_found_by_id_else_by_an_alias_only_one_has() -> None:
    teams = lookup.Groups.of("team", [team_row("t1", "prod"), team_row("prod", "other"), team_row("t2", "dup"),
                                      team_row("t3", "dup")])
    assert teams.find("prod")["team_id"] == "prod"  # an id wins over another team's alias
    assert teams.find("other")["team_id"] == "prod"
    assert teams.find("dup") is None and teams.find("ghost") is None
    assert teams.what == "team" and lookup.Groups.of("org", []).what == "organization"


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["u1", "u2", "u3", "u4"]), st.sampled_from([None, "a@x.com", "A@X.com",
                                                                                            "b@x.com"]),
                               st.sampled_from([None, "s1", "s2"])), max_size=6, unique_by=lambda r: r[0]),
       ref=st.tuples(st.sampled_from([None, "u1", "u2", "u9"]), st.sampled_from([None, "s1", "s2", "s9"]),
                     st.sampled_from([None, "a@x.com", "b@X.COM", "c@x.com"])))
def test_user_lookup_follows_litellms_order(rows, ref) -> None:
    sso_taken: set[str] = set()
    table = []
    for user_id, email, sso in rows:  # sso_user_id is unique in the database
        table.append(user_row(user_id, email, None if sso in sso_taken else sso))
        sso_taken.add(sso) if sso else None
    users = lookup.Users.of(table)
    user_id, sso, email = ref
    by_id = [r for r in table if user_id and r["user_id"] == user_id]
    by_sso = [r for r in table if sso and r["sso_user_id"] == sso]
    by_email = [r for r in table if email and (r["user_email"] or "").lower() == email.lower()]
    if by_id or by_sso or len(by_email) < 2:
        found = users.match(user_id, sso, email)
        expected = (by_id or by_sso or by_email or [None])[0]
        assert (found[0] if found else None) == expected
    else:
        with pytest.raises(lookup.Ambiguous):
            users.match(user_id, sso, email)


# -- resolution -------------------------------------------------------------------------------


def test_spec_users_resolve_to_the_existing_users_they_name() -> None:
    snapshot = Snapshot.of(users=[user_row("u1", "ada@x.com"), user_row("u2", None, "okta|2")])
    spec = spec_of(users=[{"user_email": "ADA@x.com"}, {"sso_user_id": "okta|2"}, {"user_id": "new-one"},
                          {"user_email": "fresh@x.com"}])
    resolution = resolve.resolve(snapshot, spec, NO_SETTINGS)
    assert resolution.user_ids[:3] == ("u1", "u2", "new-one") and not resolution.problems
    assert len(resolution.user_ids[3]) == 36  # a new user gets a uuid, as LiteLLM's /user/new


def test_names_that_point_at_different_users_are_problems() -> None:
    snapshot = Snapshot.of(users=[user_row("u1", "ada@x.com", "okta|1"), user_row("u2", "bob@x.com", "okta|2"),
                                  user_row("u3", "dup@x.com"), user_row("u4", "DUP@x.com")])
    spec = spec_of(users=[{"user_id": "other", "sso_user_id": "okta|1"},
                          {"user_email": "bob@x.com", "sso_user_id": "okta|9"},
                          {"user_email": "dup@x.com"}, {"user_id": "u2", "user_email": "ada@x.com"}])
    problems = [text for _, text in resolve.resolve(snapshot, spec, NO_SETTINGS).problems]
    assert problems == [
        "spec.yaml: users[0].sso_user_id: 'okta|1' belongs to existing user 'u1'; give that user_id or leave user_id out",
        "spec.yaml: users[1].sso_user_id: user 'u2', found by its email, is linked to sso_user_id 'okta|2'; give its "
        "user_id to link it to another identity",
        "spec.yaml: users[2].user_email: email 'dup@x.com' matches 2 users in the database: u3, u4",
        "spec.yaml: users[3].user_email: 'ada@x.com' is already the email of user 'u1'"]


def test_team_references_resolve_through_the_file_and_the_database() -> None:
    snapshot = Snapshot.of(teams=[team_row("t-db", "from-db"), team_row("t-a", "twice"), team_row("t-b", "twice")])
    spec = spec_of(teams=[{"team_alias": "fresh"}], users=[{"user_id": "u", "teams": ["from-db", "fresh", "t-db"]},
                                                            {"user_id": "v", "teams": ["twice"]}])
    with pytest.raises(InvalidSpec) as raised:  # the ambiguous alias is a problem; the rest resolves
        build(snapshot, spec)
    assert "users[1].teams[0]: alias 'twice' matches 2 teams in the database (t-a, t-b); use the id" in \
        raised.value.message
    resolution = resolve.resolve(snapshot, spec_of(teams=[{"team_alias": "fresh"}],
                                                   users=[{"user_id": "u", "teams": ["from-db", "fresh", "t-db"]}]),
                                 NO_SETTINGS)
    fresh = resolution.team_ids[0]
    assert [resolution.targets["team", m.target] for m in resolution.memberships] == ["t-db", fresh]  # merged


def test_an_alias_another_team_keeps_is_a_problem() -> None:
    snapshot = Snapshot.of(teams=[team_row("t1", "prod")])
    spec = spec_of(teams=[{"team_id": "t2", "team_alias": "prod"}])
    with pytest.raises(InvalidSpec, match=r"teams\[0\].team_alias: alias 'prod' is already used by team 't1'"):
        build(snapshot, spec)
    renamed = spec_of(teams=[{"team_id": "t2", "team_alias": "prod"}, {"team_id": "t1", "team_alias": "old"}])
    assert not resolve.resolve(snapshot, renamed, NO_SETTINGS).problems  # t1 gives the alias up in the same file


def test_one_member_named_twice_with_two_roles_is_a_problem() -> None:
    spec = spec_of(teams=[{"team_id": "t", "team_alias": "tee", "members_with_roles": [{"user_id": "u",
                                                                                       "role": "admin"}]}],
                   users=[{"user_id": "u", "teams": ["tee:user"]}])
    with pytest.raises(InvalidSpec, match=r"teams\[0\]\.members_with_roles\[0\]: u is already a member of team 't' "
                                          r"with role 'user'"):
        build(Snapshot(), spec)


def test_new_users_join_the_proxys_default_teams() -> None:
    proxy = ProxySettings(user_teams=(DefaultTeam("eng", "admin"),))
    snapshot = Snapshot.of(teams=[team_row("eng")], users=[user_row("old")])
    spec = spec_of(users=[{"user_id": "new"}, {"user_id": "old"}, {"user_id": "own", "teams": ["eng"]}])
    result = build(snapshot, spec, proxy)
    members = {item.id: item for item in result.items if item.kind == "team_member"}
    assert set(members) == {"new@eng", "own@eng"}  # an existing user, and a user naming a team, get none
    assert members["new@eng"].changes == (plan.Change("role", None, "admin"),)


# -- diffs ------------------------------------------------------------------------------------


def test_an_unchanged_spec_plans_nothing_to_write() -> None:
    snapshot = Snapshot.of(users=[user_row("u1", "ada@x.com", user_alias="Ada", max_budget=10.0)])
    result = build(snapshot, spec_of(users=[{"user_email": "ADA@x.com", "user_alias": "Ada", "max_budget": 10}]))
    assert actions(result) == {("user", "u1"): UNCHANGED}
    assert (result.steps, result.locks, result.refs) == ((), (), ())


def test_a_changed_field_is_one_update_with_its_lock_and_cache_reference() -> None:
    snapshot = Snapshot.of(users=[user_row("u1", "ada@x.com", user_alias="Ada")])
    result = build(snapshot, spec_of(users=[{"user_id": "u1", "user_alias": "Ada L."}]))
    [item] = result.items
    assert (item.action, item.changes) == (UPDATE, (plan.Change("user_alias", "Ada", "Ada L."),))
    assert [(s.query, s.rows[0]["user_alias"] if s.query.startswith("user") else None) for s in result.steps] == [
        ("user/update_many", "Ada L."), ("audit/copy_in", None)]
    assert [(lock.query, dict(lock.expected), lock.params) for lock in result.locks] == [
        ("user/lock_for_plan", {"u1": "7"}, {"ids": ["u1"]})]
    assert [ref.kind for ref in result.refs] == ["user"]
    quiet = build(snapshot, spec_of(users=[{"user_id": "u1", "user_alias": "Ada L."}]), options=Options(audit=False))
    assert [s.query for s in quiet.steps] == ["user/update_many"]


def test_a_new_membership_is_written_in_all_three_places() -> None:
    snapshot = Snapshot.of(teams=[team_row("t1", "prod", metadata={"team_member_budget_id": "b-default"})],
                           users=[user_row("u1", "ada@x.com")],
                           budgets=[{"budget_id": "b-default", **BUDGET_NULLS, "max_budget": 5.0, "seen": "3"}])
    result = build(snapshot, spec_of(users=[{"user_id": "u1", "teams": ["prod:admin"]}]))
    steps = {s.query: s.rows for s in result.steps}
    assert steps["team/update_many"][0]["members_with_roles"] == [
        {"user_id": "u1", "user_email": "ada@x.com", "role": "admin"}]
    assert steps["user/update_many"][0]["teams"] == ["t1"]
    assert steps["team/copy_memberships"] == ({"user_id": "u1", "team_id": "t1", "budget_id": "b-default"},)
    assert result.roster_locks == ("t1",)
    assert actions(result) == {("user", "u1"): UNCHANGED, ("team_member", "u1@t1"): CREATE}


def test_an_organization_budget_change_updates_its_budget_row() -> None:
    snapshot = Snapshot.of(orgs=[{"organization_id": "o1", "organization_alias": "acme", "models": [], "metadata": {},
                                  "budget_id": "b1", "seen": "4"}],
                           budgets=[{"budget_id": "b1", **BUDGET_NULLS, "max_budget": 100.0, "seen": "5"}])
    result = build(snapshot, spec_of(organizations=[{"organization_alias": "acme", "max_budget": 250}]))
    steps = {s.query: s.rows for s in result.steps}
    assert steps["budget_row/update_many"][0]["max_budget"] == 250
    assert [(lock.query, dict(lock.expected)) for lock in result.locks] == [
        ("budget_row/lock_for_plan", {"b1": "5"}), ("org/lock_for_plan", {"o1": "4"})]


def test_membership_locks_take_sorted_user_and_group_id_pairs() -> None:
    lock = plan.lock_set("org_member", {f"u2{plan.SEP}o1": "3", f"u1{plan.SEP}o2": "4"})
    assert (lock.query, lock.params) == (
        "org/lock_memberships_for_plan", {"user_ids": ["u1", "u2"], "group_ids": ["o2", "o1"]})


def test_a_budget_duration_sets_the_next_reset() -> None:
    result = build(Snapshot(), spec_of(users=[{"user_id": "u", "budget_duration": "1d"}]))
    [row] = next(s.rows for s in result.steps if s.query == "user/copy_in")
    assert row["budget_reset_at"] == datetime(2026, 3, 15)  # the next UTC midnight, as LiteLLM aligns it


def test_two_keys_with_one_alias_in_the_database_are_a_problem() -> None:
    rows = [{"token": t, "key_alias": "ci", "key_name": "sk-...", "seen": "1"} for t in ("a" * 64, "b" * 64)]
    with pytest.raises(InvalidSpec, match=r"keys\[0\].key_alias: alias 'ci' matches 2 keys in the database"):
        build(Snapshot.of(keys=rows, users=[user_row("u")]), spec_of(keys=[{"key_alias": "ci", "user_id": "u"}]))


def test_items_come_in_kind_order() -> None:
    spec = spec_of(budgets=[{"budget_id": "b", "max_budget": 1}],
                   organizations=[{"organization_alias": "acme", "members_with_roles": [{"user_id": "u"}]}],
                   teams=[{"team_id": "t", "members_with_roles": [{"user_id": "u"}]}], users=[{"user_id": "u"}],
                   keys=[{"key_alias": "k", "user_id": "u"}])
    kinds = [item.kind for item in build(Snapshot(), spec).items]
    assert kinds == sorted(kinds, key=plan.KINDS.index) == list(plan.KINDS)


# -- applying twice ---------------------------------------------------------------------------

emails = st.lists(st.from_regex(r"[a-z]{1,8}@[a-z]{1,6}\.(com|org)", fullmatch=True), min_size=1, max_size=8,
                  unique_by=str.lower)
member_team = st.sampled_from([None, "t1", "t2", "t1:admin", "Team Two"])


@st.composite
def specs_(draw: Any) -> list[tuple[str, dict[str, Any]]]:
    teams = [("teams", {"team_id": "t1", "max_budget": draw(st.sampled_from([None, 10, 12.5])),
                        "team_member_budget": draw(st.sampled_from([None, 3]))}),
             ("teams", {"team_id": "t2", "team_alias": "Team Two", "budget_duration": draw(st.sampled_from(
                 [None, "1d", "7d", "1mo"]))})]
    users = []
    for n, email in enumerate(draw(emails)):
        user: dict[str, Any] = {"user_email": email}
        if draw(st.booleans()):
            user["user_id"] = f"id-{n}"
        alias = draw(st.sampled_from([None, "Ada", "Zoë", " spaced "]))
        if alias is not None:
            user["user_alias"] = alias
        budget = draw(st.sampled_from([None, 0, 1.25, 1e9]))
        if budget is not None:
            user["max_budget"] = budget
            user["budget_duration"] = draw(st.sampled_from(["30s", "1h", "daily", "1mo"]))
        team = draw(member_team)
        if team:
            user["teams"] = [team]
        users.append(("users", user))
    orgs = [("organizations", {"organization_alias": "acme", "max_budget": 100,
                               "members_with_roles": [{"user_email": users[0][1]["user_email"], "role": "org_admin"}]})]
    keys = [("keys", {"key_alias": "ci", "user_id": users[0][1].get("user_id") or "id-x", "team_id": "Team Two",
                      "key": "sk-" + "x" * 20})] if "user_id" in users[0][1] else []
    return [*orgs, *teams, *users, *keys]


@settings(max_examples=60, deadline=None)
@given(records=specs_(), shout=st.booleans())
def test_a_spec_applied_once_plans_nothing_the_second_time(records, shout) -> None:
    spec = specs.from_records(records, "spec.yaml")
    first = build(Snapshot(), spec)
    assert all(item.action == CREATE for item in first.items)
    tables = applied(first)
    again = [(section, {**entry, "user_email": entry["user_email"].upper()} if shout and "user_email" in entry
              else entry) for section, entry in records]  # emails match case-insensitively
    spec = specs.from_records(again, "spec.yaml")
    second = build(snapshot_of(tables, spec), spec)
    assert {item.action for item in second.items} == {UNCHANGED}, [i for i in second.items if i.action != UNCHANGED]
    assert (second.steps, second.locks, second.roster_locks, second.refs, second.created_keys) == ((), (), (), (), ())
    assert len(second.items) == len(first.items)


@settings(max_examples=40, deadline=None)
@given(records=specs_(), budget=st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_a_changed_budget_is_the_only_change(records, budget) -> None:
    spec = specs.from_records(records, "spec.yaml")
    tables = applied(build(Snapshot(), spec))
    index = next(n for n, (section, _) in enumerate(records) if section == "users")
    section, user = records[index]
    changed = [*records[:index], (section, {**user, "max_budget": budget, "budget_duration": "1mo"}),
               *records[index + 1:]]
    spec = specs.from_records(changed, "spec.yaml")
    second = build(snapshot_of(tables, spec), spec)
    updated = [item for item in second.items if item.action != UNCHANGED]
    old = next(r for r in tables["users"] if r["user_email"] == user["user_email"])
    if old["max_budget"] == budget and old["budget_duration"] == "1mo":
        assert updated == []
    else:
        [item] = updated
        assert item.kind == "user" and {c.field for c in item.changes} <= {"max_budget", "budget_duration",
                                                                           "budget_reset_at"}


# -- value checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 10**400, -1, True, "5", None])
def test_numbers_refused(value) -> None:
    with pytest.raises(checks.InvalidValue):
        checks.number(value)


@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False) | st.integers(min_value=0, max_value=10**300))
def test_every_finite_non_negative_number_is_a_budget(value) -> None:
    assert checks.number(value) == float(value)


@given(st.integers())
def test_whole_numbers_fit_their_column(value) -> None:
    if 0 <= value <= checks.BIGINT_MAX:
        assert checks.whole(value) == value
    else:
        with pytest.raises(checks.InvalidValue):
            checks.whole(value)


def test_text_checks_refuse_what_postgresql_cannot_hold() -> None:
    for bad in ("a\x00b", "\ud800"):
        with pytest.raises(checks.InvalidValue):
            checks.text(bad)
    assert checks.name("  x ") == "x"
    with pytest.raises(checks.InvalidValue, match="must not be empty"):
        checks.name("   ")
    assert checks.json_value({"a": [1, {"b": "c"}]}) == {"a": [1, {"b": "c"}]}
    with pytest.raises(checks.InvalidValue, match=r"a\[1\]\.b: must be a finite number, not nan"):
        checks.json_value({"a": [1, {"b": float("nan")}]})
    with pytest.raises(InvalidInput, match=r"^--max-budget: must be a finite number, not nan$"):
        checks.flag("--max-budget", float("nan"), checks.number)
    assert checks.flag("--max-budget", None, checks.number) is None
