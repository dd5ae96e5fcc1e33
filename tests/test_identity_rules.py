"""The identity rule (common.identities) alone: which row a reference names, and what is said when
it names none or several. Pure: no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from litellm_dbctl.common import identities
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.common.identities import Ambiguous, Match, Unknown, choose, closest, group_matches, user_matches

USERS = [{"user_id": "ada-id", "sso_user_id": "okta|ada", "user_email": "ada@example.com"},
         {"user_id": "ada@example.com", "sso_user_id": None, "user_email": None},  # an id that is another's email
         {"user_id": "bob", "sso_user_id": "ada-id", "user_email": "Bob@Example.com"}]


@pytest.mark.parametrize(("ref", "expected"), [
    ("ada-id", "ada-id"),  # user_id first, before bob's sso_user_id
    ("okta|ada", "ada-id"),
    ("ada@example.com", "ada@example.com"),  # a user_id beats another user's email
    ("BOB@example.COM", "bob"),  # email case-insensitively
    ("nobody", None),
])
def test_a_user_is_its_id_else_its_sso_id_else_its_email(ref: str, expected: str | None) -> None:
    found = choose("user", ref, user_matches(USERS, ref))
    assert (found.id if found else None) == expected


def test_an_email_two_users_share_is_ambiguous_naming_both() -> None:
    rows = [{"user_id": "u2", "sso_user_id": None, "user_email": "a@x.io"},
            {"user_id": "u1", "sso_user_id": None, "user_email": "A@X.io"}]
    with pytest.raises(Ambiguous) as caught:
        choose("user", "a@x.io", user_matches(rows, "a@x.io"))
    assert caught.value.message == "'a@x.io' is the user email of 2 users: u1, u2"
    assert caught.value.hint == "give the user's id" and isinstance(caught.value, InvalidInput)


def test_a_team_is_its_id_else_the_one_team_with_that_alias() -> None:
    rows = [{"team_id": "research", "team_alias": "R&D"}, {"team_id": "t2", "team_alias": "research"},
            {"team_id": "t3", "team_alias": "Ops"}, {"team_id": "t4", "team_alias": "Ops"}]
    assert choose("team", "research", group_matches(rows, "research", "team_id", "team_alias")).id == "research"
    assert choose("team", "R&D", group_matches(rows, "R&D", "team_id", "team_alias")).id == "research"
    with pytest.raises(Ambiguous, match="'Ops' is the alias of 2 teams: t3, t4"):
        choose("team", "Ops", group_matches(rows, "Ops", "team_id", "team_alias"))
    assert choose("team", "ops", group_matches(rows, "ops", "team_id", "team_alias")) is None  # aliases are exact


def test_a_key_by_token_before_alias_before_prefix_and_never_echoing_a_raw_key() -> None:
    matches = [Match("a" * 64, "prefix"), Match("b" * 64, "key_alias")]
    assert choose("key", "ref", matches).id == "b" * 64
    with pytest.raises(Ambiguous, match="'aaaaaaaa' is the prefix of 2 keys: aaaaaaaaaaaa…, aaaaaaaabbbb…"):
        choose("key", "aaaaaaaa", [Match("a" * 64, "prefix"), Match("a" * 8 + "b" * 56, "prefix")])
    raw = "sk-" + "s3cr3t" * 5
    unknown = Unknown("key", raw, [raw])
    assert raw not in unknown.message + (unknown.hint or "") and unknown.message == f"no key sk-…{raw[-4:]}"


def test_the_same_row_matched_several_ways_is_one_match() -> None:
    assert choose("team", "x", [Match("x", "id"), Match("x", "id", deleted=True), Match("y", "alias")]).id == "x"


def test_unknown_names_the_reference_and_offers_the_closest_names() -> None:
    error = Unknown("team", "Reserch", ["Research", "research", "Marketing", "", "Reserve"])
    assert error.message == "no team 'Reserch'"
    assert error.hint == "closest: 'Research', 'research', 'Reserve' (a team is given by id or alias)"
    assert Unknown("org", "zzz", ["acme"]).hint == "no close match (an organization is given by id or alias)"
    assert Unknown("user", "zzz", ["ada"]).hint == "no close match (a user is given by user_id, SSO id or email)"


@given(st.text(min_size=1, max_size=20), st.lists(st.text(max_size=20), max_size=30))
def test_closest_offers_only_given_names_at_most_five(ref: str, names: list[str]) -> None:
    offered = closest(ref, names)
    assert len(offered) <= identities.CLOSEST and len(set(offered)) == len(offered)
    assert set(offered) <= set(names)
    if ref in names:
        assert ref in offered or len([n for n in names if n.lower() == ref.lower()]) > identities.CLOSEST


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["id", "alias"])), max_size=6))
def test_choose_decides_by_the_first_way_that_matched(pairs: list[tuple[str, str]]) -> None:
    matches = [Match(i, how) for i, how in pairs]
    for how in ("id", "alias"):
        ids = sorted({i for i, h in pairs if h == how})
        if ids:
            break
    else:
        assert choose("team", "ref", matches) is None
        return
    if len(ids) == 1:
        assert choose("team", "ref", matches).id == ids[0]
    else:
        with pytest.raises(Ambiguous) as caught:
            choose("team", "ref", matches)
        assert list(caught.value.ids) == ids
