"""yamldoc: libyaml's reading of a document, as `yaml.safe_load` gives it, with the line of every value."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from fix_provision import write
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from litellm_dbctl.common import yamldoc
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.common.yamldoc import LMap, LSeq

ROOT = Path(__file__).resolve().parent.parent


class SpecLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the merge of its releases before 6.0.4, as the YAML spec defines it:
    in `<<: [*a, *b]` the first mapping's keys win. (6.0.4 lets the last win for keys of two or more
    characters, the first for one-character keys, which CPython interns: yaml/pyyaml#953.)"""

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        merge: list[Any] = []
        index = 0
        while index < len(node.value):
            key_node, value_node = node.value[index]
            if key_node.tag != "tag:yaml.org,2002:merge":
                index += 1
                continue
            del node.value[index]
            if isinstance(value_node, yaml.MappingNode):
                self.flatten_mapping(value_node)
                merge.extend(value_node.value)
            elif isinstance(value_node, yaml.SequenceNode):
                submerge = []
                for subnode in value_node.value:
                    if not isinstance(subnode, yaml.MappingNode):
                        raise yaml.constructor.ConstructorError(None, None, "expected a mapping", subnode.start_mark)
                    self.flatten_mapping(subnode)
                    submerge.append(subnode.value)
                for value in reversed(submerge):
                    merge.extend(value)
            else:
                raise yaml.constructor.ConstructorError(None, None, "expected a mapping", value_node.start_mark)
        if merge:
            node.value = merge + node.value


def safe_load(text: str, loader: type[yaml.SafeLoader] = SpecLoader) -> tuple[str, Any]:
    """What PyYAML's safe loader reads, keys as text (yamldoc's keys are strings), or an error."""
    try:
        return ("ok", textual_keys(yaml.load(text, Loader=loader)))
    except yaml.YAMLError:
        return ("error", None)
    except RecursionError:
        return ("deep", None)


def textual_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): textual_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [textual_keys(v) for v in value]
    return value


def read(text: str) -> tuple[str, Any]:
    try:
        return ("ok", yamldoc.plain(yamldoc.parse(text, "t.yaml")))
    except InvalidInput as exc:
        return ("deep" if "nested too deeply" in exc.message else "error", None)


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types (True is not 1, 1.0 is not 1; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


# Scalars on every edge of YAML 1.1's plain-scalar rules and PyYAML's resolvers.
WORDS = ["a", "ada", "research:admin", "a:1", "a::b", "30d", "1mo", "1.2.3", "1e3", "-a", ".x", "<b>", "=x", "+",
         "User 1", "user00001@example.com", "ü@x.org", "Zoë", "teams", "on", "On", "OFF", "yes", "No", "y", "n", "Y",
         "true", "False", "null", "Null", "~", "0", "00", "07", "-1", "+2", "1.5", "01.5", "1.", ".5", "-0", "1.5e3",
         "1_000", "0x1F", "0o7", "0b1", "2024-01-01", "2024-01-01 10:00:00", "1:30", "-", "- a", "a: b", "a #b",
         "a#b", "#x", "it's", "[a]", "a]", "{a: 1}", "&x", "*x", "!t", "|", ">", "%", "@", "`", "?", "? x", ": x", ",",
         "a,b", "a, b", "<<", "=", ".inf", "-.inf", ".NaN", "x\\y", 'say "hi"', "tab\there", "nel\x85", "http://h:1/p",
         "a:", "2001:db8::1", "3 4"]
KEYS = ["a", "b", "teams", "team_id", "user_email", "Zoë", "x y", "a-b", "n1"]


def scalar_text(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(WORDS))
    style = draw(st.sampled_from(["plain", "plain", "single", "double"]))
    text = {"plain": word, "single": "'" + word.replace("'", "''") + "'",
            "double": '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'}[style]
    if draw(st.integers(0, 9)) == 0:
        text += draw(st.sampled_from([" # note", "  #", "#x", "  "]))
    return text


trees = st.recursive(
    st.sampled_from(["scalar", "scalar", "flow", "empty", "alias"]),
    lambda inner: st.lists(st.tuples(st.sampled_from([*KEYS, "<<"]), inner), min_size=1, max_size=4)
    .map(lambda entries: ("map", entries)) | st.lists(inner, min_size=1, max_size=4).map(lambda items: ("seq", items)),
    max_leaves=20,
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A block-style document with random indents, list styles, comments, blank lines, anchors,
    aliases and merge keys; now and then a line shifted by a space: sometimes not YAML at all."""
    tree = draw(trees.filter(lambda t: t[0] in ("map", "seq")))
    lines: list[str] = []
    anchors: list[str] = []

    def leaf(kind: str) -> str:
        if kind == "flow":
            return "[" + ", ".join(draw(st.lists(st.sampled_from(["a", "b1", "yes", "7", "x y"]), max_size=3))) + "]"
        if kind == "alias" and anchors:
            return "*" + draw(st.sampled_from(anchors))
        if kind == "empty":
            return ""
        return scalar_text(draw)

    def anchor() -> str:
        """An anchor for the next block, or ""; aliases may name it once the block ends."""
        return "" if draw(st.integers(0, 3)) else f"&n{len(lines)}"

    def block(node: Any, indent: int) -> None:
        step = draw(st.integers(1, 4))
        if node[0] == "map":
            for key, value in node[1]:
                head = " " * indent + key + ":"
                if isinstance(value, str):
                    text = leaf(value)
                    lines.append(head + (" " + text if text else ""))
                else:
                    mark = anchor()
                    lines.append(head + (" " + mark if mark else ""))
                    block(value, indent + step)
                    anchors.extend([mark[1:]] if mark else [])
        else:
            for item in node[1]:
                dash = " " * indent + "-" + " " * step
                if isinstance(item, str):
                    lines.append((dash + leaf(item)).rstrip(" "))
                else:
                    mark = anchor()
                    lines.append(" " * indent + "-" + (" " + mark if mark else ""))
                    block(item, indent + step)
                    anchors.extend([mark[1:]] if mark else [])

    block(tree, 0)
    for _ in range(draw(st.integers(0, 3))):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "# comment", "   # c", "   "])))
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(lines) - 1))
        lines[at] = (" " + lines[at]) if draw(st.booleans()) else lines[at][1:]
    head = draw(st.sampled_from(["", "", "---\n", "%YAML 1.1\n---\n", "\ufeff"]))
    return head + "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n", "\r\n"]))


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(text=documents())
@example(text="a: 1\nb:\n- x\n- y\nc: [p, q]\n")
@example(text="- a: 1\n  b: 2\n-\n  c: 3\n")
@example(text="a: &x\n  b: yes\n  c: 1.5\nd:\n  <<: *x\n  c: x\n")
def test_documents_read_as_pyyaml_safe_load_reads_them(text: str) -> None:
    expected = safe_load(text)
    got = read(text)
    # yamldoc reads keys as text where PyYAML refuses a list or mapping as a key, and refuses an alias
    # inside its own anchor's node, of which PyYAML makes a cycle (too deep for textual_keys)
    assume(not (expected[0] == "error" and got[0] == "ok") and not (expected[0] == "deep" and got[0] == "error"))
    assert got[0] == expected[0], text
    if got[0] == "ok":
        assert same(got[1], expected[1]), text
        if "<<" not in text:  # and PyYAML as installed
            assert same(got[1], safe_load(text, yaml.SafeLoader)[1]), text


@st.composite
def merging_documents(draw: st.DrawFn) -> str:
    """Anchored mappings, then mappings merging them (`<<: *a`, `<<: [*a, *b]`, `<<: {...}`, merges
    of merges) with keys of their own, in block or flow style."""
    keys = st.sampled_from(["a", "bb", "max_budget", "models", "x y"])
    values = st.sampled_from(["1", "two", "[p, q]", "{k: v}", "yes", "~", "'3'"])
    lines: list[str] = []
    anchors: list[str] = []
    for n in range(draw(st.integers(1, 6))):
        own = draw(st.lists(st.tuples(keys, values), max_size=3))
        merges = [f"*{name}" for name in draw(st.lists(st.sampled_from(anchors), max_size=3))] if anchors else []
        if draw(st.integers(0, 4)) == 0:
            merges.append("{" + ", ".join(f"{k}: {v}" for k, v in draw(st.lists(st.tuples(keys, values), max_size=2))) + "}")
        merge = ("[" + ", ".join(merges) + "]" if len(merges) > 1 or draw(st.booleans()) else merges[0]) if merges else ""
        if not own and not merge:
            own = [("a", "1")]
        entries = ([("<<", merge)] if merge else []) + own
        entries = draw(st.permutations(entries))
        name = f"m{n}"
        if draw(st.booleans()):
            lines.append(f"{name}: &{name} {{" + ", ".join(f"{k}: {v}" for k, v in entries) + "}")
        else:
            lines.append(f"{name}: &{name}")
            lines.extend(f"  {k}: {v}" for k, v in entries)
        anchors.append(name)
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(text=merging_documents())
@example(text="m0: &m0 {bb: 1, a: 1}\nm1: &m1 {bb: 2}\nm2: &m2\n  <<: [*m0, *m1]\nm3: &m3\n  <<: [*m1, *m0]\n  a: 3\n")
def test_merges_read_as_the_yaml_spec_defines_them(text: str) -> None:
    expected, got = safe_load(text), read(text)
    assert got[0] == expected[0], text
    if got[0] == "ok":
        assert same(got[1], expected[1]), text


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=" \n-:#[],'\"ab1.&*<", max_size=40))
@example(text="[1:]")
def test_arbitrary_text_reads_as_pyyaml_reads_it_or_fails_alike(text: str) -> None:
    expected, got = safe_load(text), read(text)
    assume(not (expected[0] == "error" and got[0] == "ok"))  # a list as a key: see above
    # PyYAML's two scanners disagree on a few inputs (`[1:]`: the pure one reads {1: None}, libyaml
    # refuses it); dbctl reads with libyaml, so only inputs both read alike are compared.
    assume(safe_load(text, yaml.CSafeLoader)[0] == expected[0])
    assert got[0] == expected[0], text
    if got[0] == "ok":
        assert same(got[1], expected[1]), text


def test_every_value_keeps_its_line() -> None:
    doc = yamldoc.parse("# head\nusers:\n  - user_id: u1\n\n    teams: [a, b]\n  - user_id: u2\n", "t.yaml")
    assert isinstance(doc, LMap) and doc.lines == {"users": 2}
    users = doc.values["users"]
    assert isinstance(users, LSeq) and users.lines == [3, 6] and users.line == 3
    first = users.items[0]
    assert first.line == 3 and first.lines == {"user_id": 3, "teams": 5} and first.at("missing") == 3
    assert first.values["teams"].lines == [5, 5]


MERGES = """\
defaults: &defaults
  max_budget: 10
  budget_duration: 30d
  models: [gpt-4o]
limits: &limits
  max_budget: 20
  tpm_limit: 100
one:
  <<: *defaults
  max_budget: 5
both:
  <<: [*defaults, *limits]
inline:
  <<: {rpm_limit: 7}
quoted:
  "<<": text
"""


def test_merge_keys_bring_in_the_anchored_mapping_with_its_lines() -> None:
    doc = yamldoc.parse(MERGES, "t.yaml")
    one, both = doc.values["one"], doc.values["both"]
    assert yamldoc.plain(one) == {"max_budget": 5, "budget_duration": "30d", "models": ["gpt-4o"]}
    assert one.lines == {"max_budget": 10, "budget_duration": 3, "models": 4}  # own keys win; merged ones
    assert one.duplicates == []                                                   # point at their definition
    assert yamldoc.plain(both) == {"max_budget": 10, "tpm_limit": 100, "budget_duration": "30d", "models": ["gpt-4o"]}
    assert yamldoc.plain(doc.values["inline"]) == {"rpm_limit": 7}
    assert yamldoc.plain(doc.values["quoted"]) == {"<<": "text"}  # a quoted << is a key like any other
    assert yamldoc.plain(doc.values["defaults"])["max_budget"] == 10  # the anchor itself is untouched


def test_merge_keys_agree_with_pyyaml() -> None:
    got = yamldoc.plain(yamldoc.parse(MERGES, "t.yaml"))
    assert got == safe_load(MERGES)[1]
    installed = yaml.safe_load(MERGES)  # the releases differ only where `<<: [*a, *b]` both hold a key
    assert {k: v for k, v in got.items() if k != "both"} == {k: v for k, v in installed.items() if k != "both"}


@pytest.mark.parametrize(("text", "problem"), [
    ("a: <<\n", "a merge key `<<` holds no value"),
    ("a:\n  <<: 1\n", "expected a mapping or list of mappings for merging"),
    ("a:\n  <<: [1]\n", "expected a mapping or list of mappings for merging"),
    ("a:\n  <<: *nowhere\n", "unknown alias 'nowhere'"),
])
def test_a_bad_merge_is_one_line_naming_the_line(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as info:
        yamldoc.parse(text, "t.yaml")
    assert info.value.message.startswith("t.yaml:") and problem in info.value.message


def test_keys_given_twice_are_recorded_with_their_lines() -> None:
    doc = yamldoc.parse("a: 1\nb: 2\na: 3\nm: &m {x: 1}\nn:\n  <<: *m\n  <<: {y: 2}\n  x: 5\n", "t.yaml")
    assert doc.duplicates == [("a", 3)] and doc.values["a"] == 3  # the last wins, as in yaml.safe_load
    assert doc.values["n"].duplicates == [("<<", 7)]  # PyYAML releases disagree on which `<<` wins
    assert yamldoc.plain(doc.values["n"]) == {"x": 5, "y": 2}  # an own key overriding a merged one is no duplicate


def test_a_syntax_error_names_the_line() -> None:
    with pytest.raises(InvalidInput, match=r"^t\.yaml:2: not valid YAML/JSON"):
        yamldoc.parse("a: 1\n b: [\n", "t.yaml")


def test_a_second_document_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^t\.yaml:2: not valid YAML/JSON: expected a single document"):
        yamldoc.parse("a: 1\n---\nb: 2\n", "t.yaml")


def test_an_empty_document_is_none() -> None:
    assert yamldoc.parse("", "t.yaml") is None
    assert yamldoc.parse("# only a comment\n", "t.yaml") is None
    assert yamldoc.parse("---\n", "t.yaml") is None


def test_a_document_too_deep_to_read_is_one_line_not_a_traceback() -> None:
    text = "a:\n" + "".join(" " * n + "- b:\n" for n in range(0, 1200, 2)) + " " * 1200 + "- c\n"
    with pytest.raises(InvalidInput, match=r"^t\.yaml: nested too deeply"):
        yamldoc.parse(text, "t.yaml")


def test_the_readme_examples_and_the_bench_spec_read_as_pyyaml_reads_them() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    from provision import spec_text

    readme = (ROOT / "README.md").read_text()
    examples = [block.split("```", 1)[0] for block in readme.split("```yaml\n")[1:]]
    assert examples, "the README has YAML examples"
    for text in [*examples, spec_text(200)]:
        assert same(read(text)[1], safe_load(text)[1]), text


# -- through the CLI ------------------------------------------------------------------------------

PROXY_CONFIG = """\
model_defaults: &model_defaults
  api_base: https://example.invalid/v1
  timeout: 30
user_defaults: &user_defaults
  max_budget: 12
  budget_duration: 30d
model_list:
  - model_name: gpt-4o
    litellm_params:
      <<: *model_defaults
      model: openai/gpt-4o
general_settings:
  master_key: sk-1234
litellm_settings:
  default_internal_user_params:
    <<: *user_defaults
    models: [gpt-4o]
  default_team_params:
    <<: *user_defaults
    max_budget: 40
"""


def test_a_proxy_config_with_merge_keys_is_read_as_litellm_reads_it(cli, db, tmp_path) -> None:
    """The defect: `<<:` in a LiteLLM config was refused (exit 2) although yaml.safe_load, and so the
    proxy, reads it."""
    config = write(tmp_path, PROXY_CONFIG, "config.yaml")
    spec = write(tmp_path, "users:\n  - user_email: merged@example.com\nteams:\n  - team_id: merged\n")
    checked = cli("provision", "validate", spec, "--proxy-config", config)
    assert checked.code == 0, checked
    applied = cli("provision", "apply", spec, "--proxy-config", config)
    assert applied.code == 0, applied
    user = db.query('SELECT max_budget, budget_duration, models FROM "LiteLLM_UserTable" '
                    "WHERE user_email = 'merged@example.com'")[0]
    assert user == {"max_budget": 12, "budget_duration": "30d", "models": ["gpt-4o"]}
    team = db.query('SELECT max_budget, budget_duration FROM "LiteLLM_TeamTable" WHERE team_id = %s', ["merged"])[0]
    assert team == {"max_budget": 40, "budget_duration": "30d"}


def test_a_bad_value_brought_in_by_a_merge_names_the_line_it_is_written_on(cli, db, tmp_path) -> None:
    config = write(tmp_path, PROXY_CONFIG.replace("max_budget: 12", "max_budget: lots"), "config.yaml")
    result = cli("user", "provision", "--email", "x@example.com", "--proxy-config", config)
    assert result.code == 2, result
    assert "config.yaml:5: " in result.stderr and "default_internal_user_params.max_budget" in result.stderr, result
    assert db.value('SELECT count(*) FROM "LiteLLM_UserTable"') == 0


def test_a_spec_with_merge_keys_applies_and_names_keys_given_twice(cli, db, tmp_path) -> None:
    spec = write(tmp_path, """\
config:
  user_defaults: &user
    max_budget: 3
    teams: [t1]
teams:
  - team_id: t1
users:
  - user_id: u1
    <<: *user
  - user_id: u2
    <<: *user
    max_budget: 4
""")
    assert cli("provision", "validate", spec).code == 0
    assert cli("provision", "apply", spec).code == 0
    rows = db.query('SELECT user_id, max_budget FROM "LiteLLM_UserTable" ORDER BY user_id')
    assert rows == [{"user_id": "u1", "max_budget": 3}, {"user_id": "u2", "max_budget": 4}]
    twice = write(tmp_path, "users:\n  - user_id: u3\n    <<: {max_budget: 1}\n    <<: {max_budget: 2}\n", "twice.yaml")
    result = cli("provision", "validate", twice)
    assert result.code == 2 and "twice.yaml:4: users[0].<<: given twice" in result.stderr, result
