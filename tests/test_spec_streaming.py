"""A spec's users are read and built one at a time (issue 17: a 50 MB spec in bounded memory), with
everything the whole-document reader did: lines, anchors across items, duplicates, section order."""

from __future__ import annotations

import gc
import io
import weakref

import pytest

from litellm_dbctl.common import yamldoc
from litellm_dbctl.common.errors import InvalidInput, InvalidSpec
from litellm_dbctl.common.yamldoc import LMap
from litellm_dbctl.provision import specs


def problems(text: str) -> list[str]:
    with pytest.raises(InvalidSpec) as caught:
        specs.from_text(text, "spec.yaml")
    return list(caught.value.problems)


def test_items_are_yielded_as_read_and_dropped_once_passed() -> None:
    text = "users:\n" + "".join(f"  - user_id: u{n}\n" for n in range(100))
    held: list[weakref.ref[LMap]] = []
    for key, line, value in yamldoc.entries(text, "t.yaml", lazy=("users",)):
        assert (key, line) == ("users", 1) and isinstance(value, yamldoc.Items)
        for n, (at, item) in enumerate(value):
            assert at == n + 2 and item.values == {"user_id": f"u{n}"}
            held.append(weakref.ref(item))
            del item
            gc.collect()
            assert all(ref() is None for ref in held[:-1])  # only the item in hand is alive


def test_the_line_of_item_500000() -> None:
    text = "users:\n" + "  - a\n" * 499_999 + "  - [b\n"
    items = next(yamldoc.entries(text, "t.yaml", lazy=("users",)))[2]
    with pytest.raises(InvalidInput, match=r"^t\.yaml:50000[12]: not valid YAML/JSON"):
        for _ in items:
            pass


@pytest.mark.slow
def test_a_problem_in_user_500000_names_its_line(tmp_path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("w") as out:
        out.write("users:\n")
        for n in range(499_999):
            out.write(f"  - user_id: u{n}\n")
        out.write("  - user_id: last\n    max_budget: lots\n")
    with pytest.raises(InvalidSpec) as caught:
        specs.load(str(path))
    assert caught.value.problems == [f"{path}:500002: users[499999].max_budget: expected a number, got str 'lots'"]


def test_an_anchor_in_one_item_is_aliased_in_a_later_one() -> None:
    text = ("teams:\n  - team_id: t\n    max_budget: &budget 7\n"
            "users:\n  - &base {user_id: a, user_alias: Base, max_budget: *budget}\n"
            "  - user_id: b\n  - <<: *base\n    user_id: c\n    teams: [t]\n")
    spec = specs.from_text(text, "spec.yaml")
    c = spec.users[2]
    assert (c.user_id, c.fields["user_alias"], c.fields["max_budget"]) == ("c", "Base", 7)
    assert c.lines["user_id"] == 8 and c.lines["user_alias"] == 5  # a merged key keeps the line it is written on
    assert [m.target for m in spec.memberships] == ["t"]


@pytest.mark.parametrize("users_first", [True, False])
def test_members_find_the_users_declared_wherever_users_is_written(users_first: bool) -> None:
    users = "users:\n  - user_id: u\n    user_email: u@example.com\n    user_alias: U\n"
    teams = "teams:\n  - team_id: t\n    members_with_roles:\n      - user_email: u@example.com\n        role: admin\n"
    spec = specs.from_text(users + teams if users_first else teams + users, "spec.yaml")
    assert [(u.user_id, u.implied) for u in spec.users] == [("u", False)]
    assert [(m.user, m.target, m.role) for m in spec.memberships] == [(0, "t", "admin")]


def test_a_section_given_twice_is_refused_at_its_second_line() -> None:
    text = "users:\n  - user_id: a\nteams: []\nusers:\n  - user_id: a\nvirtual_keys: []\nkeys: []\n"
    assert problems(text) == ["spec.yaml:4: users: section given twice",
                              "spec.yaml:7: keys: section given twice (as 'virtual_keys')"]


def test_a_syntax_error_after_many_users_is_the_one_problem() -> None:
    text = "users:\n" + "".join(f"  - user_id: u{n}\n    colour: x\n" for n in range(50)) + "teams: [\n"
    with pytest.raises(InvalidInput, match=r"^spec\.yaml:\d+: not valid YAML/JSON"):
        specs.from_text(text, "spec.yaml")


def test_a_second_document_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"spec\.yaml:3: not valid YAML/JSON: expected a single document"):
        specs.from_text("users:\n  - user_id: a\n---\nusers: []\n", "spec.yaml")


def test_a_spec_that_is_not_a_mapping_is_refused() -> None:
    assert problems("- user_id: a\n") == ["spec.yaml:1: spec: expected a mapping with sections "
                                          "budgets, organizations, teams, users, keys"]


def test_a_users_file_streams_its_list_and_refuses_other_sections(tmp_path) -> None:
    listed = tmp_path / "users.yaml"
    listed.write_text("- user_id: a\n- user_id: b\n  colour: x\n")
    with pytest.raises(InvalidSpec) as caught:
        specs.load_users(str(listed))
    assert caught.value.problems[0].startswith(f"{listed}:3: users[1].colour: unknown field")
    mapped = tmp_path / "mapped.yaml"
    mapped.write_text("users:\n  - user_id: a\nteams: []\n")
    with pytest.raises(InvalidInput, match=r"mapped\.yaml:3: teams: a users file holds only `users`"):
        specs.load_users(str(mapped))


def test_stdin_is_read_as_it_is_parsed(monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"users": [{"user_id": "a"}, {"user_id": "b"}]}'))
    spec = specs.load("-")
    assert (spec.source, [u.user_id for u in spec.users]) == ("<stdin>", ["a", "b"])


def test_a_file_that_is_not_utf8_is_refused(tmp_path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"users:\n  - user_id: caf\xe9\n")
    with pytest.raises(InvalidInput, match=r"latin1\.yaml: cannot read"):
        specs.load(str(path))
