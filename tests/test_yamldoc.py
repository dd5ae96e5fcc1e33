"""yamldoc: the block-subset reader agrees with libyaml on every document, or stands aside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from litellm_dbctl.common import yamldoc
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.common.yamldoc import LMap, LSeq

ROOT = Path(__file__).resolve().parent.parent


def shape(value: Any) -> Any:
    """Everything the readers must agree on: values with their types, lines, duplicate keys."""
    if isinstance(value, LMap):
        return ("map", value.line, [(k, shape(v), value.lines[k]) for k, v in value.values.items()],
                value.duplicates)
    if isinstance(value, LSeq):
        return ("seq", value.line, [shape(v) for v in value.items], value.lines)
    return (type(value).__name__, repr(value))


def libyaml(text: str) -> Any:
    try:
        return ("ok", shape(yamldoc.parse_with_libyaml(text, "t.yaml")))
    except InvalidInput:
        return ("error",)


def assert_agrees(text: str) -> bool:
    """The subset reader reads `text` as libyaml does, or declines it; True when it read it."""
    found = yamldoc.block_subset(text)
    if found is None:
        return False
    assert libyaml(text) == ("ok", shape(found)), text
    return True


# Scalars chosen to sit on every edge of YAML 1.1's plain-scalar rules and PyYAML's resolvers.
WORDS = ["a", "ada", "research:admin", "a:1", "a::b", "30d", "1mo", "1.2.3", "1e3", "-a", ".x", "<b>", "=x", "+", "User 1", "user00001@example.com", "ü@x.org", "Zoë", "teams", "team_id", "on", "On", "OFF",
         "yes", "No", "y", "n", "Y", "true", "False", "null", "Null", "~", "0", "00", "07", "-1", "+2", "1.5", "01.5",
         "1.", ".5", "-0", "1e3", "1.5e3", "1_000", "0x1F", "0o7", "0b1", "2024-01-01", "2024-01-01 10:00:00", "1:30",
         "-", "-a", "- a", "a: b", "a:b", "a #b", "a#b", "#x", "it's", "[a]", "a]", "{a: 1}", "&x", "*x", "!t", "|",
         ">", "%", "@", "`", "?", "? x", ": x", ",", "a,b", "a, b", "<<", "=", ".inf", "-.inf", ".NaN", "x\\y",
         'say "hi"', "tab\there", "nul\x00", "nel\x85", "bom\ufeff", "http://h:1/p", "a:", "2001:db8::1", "3 4"]
# What the subset reads: in a clean document every value is one of these, written in a style it
# reads (quotes only where a quote fits), so the subset must read the whole document.
CLEAN = ["a", "ada", "User 1", "user00001@example.com", "Zoë", "research:admin", "30d", "1mo", "yes", "Off", "~",
         "null", "0", "-1", "+2", "1.5", "-a", "a,b", "it's", "http://h:1/p", "x\\y", "3 4", "a]", "<b>"]
CLEAN_KEYS = ["a", "b", "teams", "team_id", "user_email", "Zoë", "x y", "a-b", "n1"]
CLEAN_FLOW = [word for word in CLEAN if not any(c in word for c in "[],'#")]


def scalar_text(draw: st.DrawFn, clean: bool) -> str:
    word = draw(st.sampled_from(CLEAN if clean else CLEAN * 4 + WORDS))
    styles = ["plain"] * 6
    if not clean or "'" not in word:
        styles.append("single")
    if not clean or not any(c in word for c in '"\\'):
        styles.append("double")
    style = draw(st.sampled_from(styles))
    text = {"plain": word, "single": f"'{word}'", "double": f'"{word}"'}[style]
    if draw(st.integers(0, 9)) == 0:
        text += draw(st.sampled_from([" # note", "   # note"] if clean or (style != "plain" and "#" in word) else
                                     [" # note", "  #", "#x", "  "]))
    return text


trees = st.recursive(
    st.sampled_from(["scalar", "scalar", "flow", "empty"]),
    lambda inner: st.lists(st.tuples(st.sampled_from(CLEAN_KEYS), inner), min_size=1, max_size=4)
    .map(lambda entries: ("map", entries)) | st.lists(inner, min_size=1, max_size=4).map(lambda items: ("seq", items)),
    max_leaves=20,
)


@st.composite
def documents(draw: st.DrawFn, clean: bool) -> str:
    """A block-style document with random indents, list styles, comments and blank lines. Unless
    `clean`, it also holds values, keys and lines the subset does not read, and now and then a
    line shifted by a space or a document marker: sometimes not in the subset, sometimes not YAML."""
    tree = draw(trees.filter(lambda t: t[0] in ("map", "seq")))
    lines: list[str] = []
    words = st.sampled_from(CLEAN_FLOW if clean else CLEAN_FLOW * 4 + WORDS)

    def leaf(kind: str, *, in_list: bool) -> str:
        if kind == "flow":
            return "[" + ", ".join(draw(st.lists(words, max_size=3))) + "]"
        if kind == "empty" and not (clean and in_list):  # an empty list item is libyaml's
            return ""
        return scalar_text(draw, clean)

    def block(node: Any, indent: int) -> None:
        step = draw(st.integers(1, 4))
        if node[0] == "map":
            for key, value in node[1]:
                if not clean and draw(st.integers(0, 9)) == 0:
                    key = draw(st.sampled_from(WORDS))
                head = " " * indent + key + ":"
                if isinstance(value, str):
                    text = leaf(value, in_list=False)
                    lines.append(head + (" " + text if text else ""))
                elif value[0] == "seq" and draw(st.booleans()):
                    lines.append(head)
                    block(value, indent)  # a compact list: `- ` at the key's indent
                else:
                    lines.append(head)
                    block(value, indent + step)
        else:
            for item in node[1]:
                dash = " " * indent + "-" + " " * step
                if isinstance(item, str):
                    lines.append((dash + leaf(item, in_list=True)).rstrip(" "))
                elif (item[0] == "map" or not clean) and draw(st.booleans()):  # first line after the dash
                    mark = len(lines)
                    block(item, indent + 1 + step)
                    lines[mark] = dash + lines[mark].lstrip(" ")
                else:
                    lines.append(" " * indent + "-")
                    block(item, indent + step)

    block(tree, 0)
    for _ in range(draw(st.integers(0, 3))):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(
            ["", "# comment", "   # indented comment", "   "] + ([] if clean else ["...", "- #"]))))
    if not clean and draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(lines) - 1))
        lines[at] = (" " + lines[at]) if draw(st.booleans()) else lines[at][1:]
    head = draw(st.sampled_from(["", "", "---\n"] + ([] if clean else ["--- \n", "%YAML 1.1\n---\n", "\ufeff"])))
    return head + "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"] + ([] if clean else ["\r\n"])))


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(text=documents(clean=True))
@example(text="a: 1\nb:\n- x\n- y\nc: [p, q]\n")
@example(text="- a: 1\n  b: 2\n-\n  c: 3\n")
@example(text="a:\n  b: yes\n  c: 1.5\n  c: x\n")
def test_subset_reads_clean_documents_as_libyaml(text: str) -> None:
    assert assert_agrees(text), f"the subset declined {text!r}"


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(text=documents(clean=False))
def test_subset_reads_as_libyaml_or_declines(text: str) -> None:
    assert_agrees(text)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=" \n-:#[],'\"ab1.", max_size=40))
def test_subset_agrees_on_arbitrary_text(text: str) -> None:
    assert_agrees(text)


def test_spec_files_as_written_are_read_by_the_subset() -> None:
    """The point of the subset: the files people write (the README's examples, the bench's
    10,000-user file) never reach libyaml."""
    from provision import spec_text  # bench/provision.py (bench/ is on the tests' sys.path)

    readme = (ROOT / "README.md").read_text()
    examples = [block.split("```", 1)[0] for block in readme.split("```yaml\n")[1:]]
    assert examples, "the README has YAML examples"
    for text in [*examples, spec_text(200)]:
        assert assert_agrees(text), text


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",          # anchors and aliases
    "a: !!str 1\n",              # tags
    "a: {b: 1}\n",               # flow mappings
    "a: |\n  text\n",            # block scalars
    "a: b\n  c\n",               # a multi-line plain scalar
    "a: 2024-01-01\n",           # a date
    "a: 012\n",                  # an octal number
    "a:\tb\n",                   # a tab
    "- \n- a\n",                 # an empty list item
    "a: [b?]\n",                # a `?` in a flow list (PyYAML's pure-Python loader refuses it)
    "a:\n" + "".join(" " * n + "- b:\n" for n in range(0, 1200, 2)) + " " * 1200 + "- c\n",  # 1,200 levels deep
    "a: 1\n---\nb: 2\n",         # a second document
])
def test_what_the_subset_leaves_to_libyaml(text: str) -> None:
    assert yamldoc.block_subset(text) is None
    assert libyaml(text)  # and libyaml reads it (or reports it), as before


def test_a_syntax_error_names_the_line() -> None:
    with pytest.raises(InvalidInput, match=r"^t\.yaml:2: not valid YAML/JSON"):
        yamldoc.parse("a: 1\n b: [\n", "t.yaml")


def test_a_document_too_deep_to_read_is_one_line_not_a_traceback() -> None:
    text = "a:\n" + "".join(" " * n + "- b:\n" for n in range(0, 1200, 2)) + " " * 1200 + "- c\n"
    with pytest.raises(InvalidInput, match=r"^t\.yaml: nested too deeply"):
        yamldoc.parse(text, "t.yaml")
