"""YAML documents as values that remember their lines: spec files and proxy configs.

`parse` reads the block YAML people write spec files in (`key: value` mappings, `- ` lists,
plain or simply quoted scalars, one-line `[a, b]` lists, comments) with one regular expression
and a small recursive parser: a 10,000-user file in ~0.08 s, without importing PyYAML. Anything
outside that subset (anchors, tags, flow mappings, block scalars, multi-line scalars, a scalar
PyYAML would read as a date or an octal number, ...) or anything it cannot be sure of goes to
libyaml, so the two read every document alike: `tests/test_yamldoc.py` holds them to it. (Without
libyaml, PyYAML's pure-Python loader reads the rest.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from litellm_dbctl.common.errors import InvalidInput


@dataclass
class LMap:
    """A mapping read from a file, with the line of each key (1-based; 0 when unknown)."""

    values: dict[str, Any]
    lines: dict[str, int]
    line: int
    duplicates: list[tuple[str, int]] = field(default_factory=list)

    def at(self, key: str) -> int:
        return self.lines.get(key, self.line)


@dataclass
class LSeq:
    items: list[Any]
    lines: list[int]
    line: int


def plain(value: Any) -> Any:
    """LMap/LSeq back to plain dicts and lists (for free-form fields such as metadata)."""
    if isinstance(value, LMap):
        return {k: plain(v) for k, v in value.values.items()}
    if isinstance(value, LSeq):
        return [plain(v) for v in value.items]
    return value


def parse(text: str, source: str) -> Any:
    """The document as LMap/LSeq/scalars with line numbers; InvalidInput on a YAML syntax error."""
    found = block_subset(text)
    return found if found is not None else parse_with_libyaml(text, source)


# -- the block subset --------------------------------------------------------------------------


class _Outside(Exception):
    """The text leaves the subset: libyaml reads it."""


# PyYAML's safe resolver (YAML 1.1) claims a plain scalar only when its first character is one of
# these; others are strings. Of the claimed ones the subset resolves keywords, decimal integers
# and simple decimal fractions, takes as strings those no resolver can match (`30d`, `1mo`,
# `-a`), and leaves the rest (dates, octals, 1_000, 1:30, .inf, ...) to libyaml.
_CLAIMED = frozenset("yYnNtTfFoO-+0123456789.<~=")
_WORDY = frozenset("yYnNtTfFoO")  # claimed only by the boolean and null keywords
_KEYWORDS: dict[str, Any] = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
    **dict.fromkeys(("~", "null", "Null", "NULL"), None),
}
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]+")
# Wider than what YAML 1.1's int, float, timestamp, merge and value resolvers match: a claimed
# scalar it does not match is a string.
_MAYBE_TYPED = re.compile(r"[-+]?[0-9_.:]*(?:[eE][-+]?[0-9]+)?|[-+]?0[xXbBoO][0-9a-fA-F_]*"
                          r"|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt \t].*)?|<<|=")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_SPECIAL = _CLAIMED | _INDICATORS
_FLOW_OUTSIDE = re.compile(r"[\[\]{}'\"#?]")  # `?` too: PyYAML's pure-Python loader refuses `[a?]`
# Characters the subset never reads: tabs, line breaks other than \n (YAML 1.1 has five), a byte
# order mark, and what YAML does not allow in a document. (Listed, not negated: a negated class of
# these ranges costs 7 ms to compile.)
_OUTSIDE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_TRAILING = re.compile(" +$", re.M)
# Every line: (indent, "- " when it opens a list item, key when it reads `key:`, the rest).
_LINE = re.compile(r"^( *)(- +|-$)?(?:([^ \n#'\"\[\]{}&*!|>%@`,?:\-][^:\n#]*):(?: +|$))?(.*)", re.M)

Row = tuple[int, int, str, str, str]  # line, indent, dash, key, rest


def block_subset(text: str) -> LMap | LSeq | None:
    """The document (a mapping or a list) when the whole text is in the subset, else None."""
    if _OUTSIDE.search(text):
        return None
    if " \n" in text or text.endswith(" "):
        text = _TRAILING.sub("", text)
    rows = [(number, len(indent), dash, key, rest)
            for number, (indent, dash, key, rest) in enumerate(_LINE.findall(text), 1)
            if dash or key or (rest and rest[0] != "#")]
    if rows and rows[0][1:] == (0, "", "", "---"):  # an explicit start of the one document
        del rows[0]
    if not rows:
        return None
    try:
        value, end = _Reader(rows).node(0, rows[0][1])
    except (_Outside, RecursionError):  # hundreds of levels deep: libyaml's, which has no such limit
        return None
    return value if end == len(rows) else None


def _plain(text: str) -> Any:
    """A plain scalar as PyYAML's safe loader resolves it, or _Outside."""
    if ": " in text or text[-1] == ":":
        raise _Outside  # a mapping where a scalar was expected
    first = text[0]
    if first not in _CLAIMED:
        if first in _INDICATORS:
            raise _Outside
        return text
    if text in _KEYWORDS:
        return _KEYWORDS[text]
    if first in _WORDY:
        return text
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if (first == "-" and (len(text) == 1 or text[1] == " ")) or _MAYBE_TYPED.fullmatch(text):
        raise _Outside
    return text


def _inline(text: str, line: int) -> Any:
    """The value after `key: ` or `- `: plain, simply quoted, or a one-line flow list of plain
    scalars; a comment may follow."""
    first = text[0]
    if first in "'\"":
        end = text.find(first, 1)
        body, after = text[1:end], text[end + 1:]
        if end < 0 or (after and (after[0] != " " or after.lstrip(" ")[:1] != "#")) or (first == '"' and "\\" in body):
            raise _Outside  # unterminated, '' or escapes inside, or text after the closing quote
        return body
    cut = text.find(" #")
    if cut >= 0:
        text = text[:cut].rstrip(" ")
    if text[0] == "[":
        inner = text[1:-1]
        if text[-1] != "]" or _FLOW_OUTSIDE.search(inner):
            raise _Outside
        if not inner.strip(" "):
            return LSeq([], [], line)
        parts = [part.strip(" ") for part in inner.split(",")]
        if "" in parts:
            raise _Outside
        return LSeq([_plain(part) for part in parts], [line] * len(parts), line)
    return _plain(text)


class _Reader:
    """Rows to values. A mapping or list ends at the first row indented less; a row indented more
    than expected, or one that is neither `key:` nor `- `, leaves the subset."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.flows: dict[str, list[Any]] = {}  # `[bulk]` on every user: split once

    def node(self, i: int, indent: int) -> tuple[Any, int]:
        return self.sequence(i, indent) if self.rows[i][2] else self.mapping(i, indent, inline=False)

    def mapping(self, i: int, indent: int, *, inline: bool) -> tuple[LMap, int]:
        """The mapping at rows[i:]; `inline`: its first key follows a `- ` on the same line."""
        rows, n = self.rows, len(self.rows)
        mapping = LMap({}, {}, rows[i][0])
        values, lines = mapping.values, mapping.lines
        while i < n:
            number, level, dash, key, rest = rows[i]
            if inline:
                inline = False
            elif level != indent or dash:
                if level > indent:
                    raise _Outside
                break
            if not key or key[-1] == " " or (key[0] in _CLAIMED and (key in _KEYWORDS or key[0] not in _WORDY)):
                raise _Outside
            if key in values:
                mapping.duplicates.append((key, number))
            i += 1
            if rest and rest[0] != "#":
                if rest[0] not in _SPECIAL and "#" not in rest and ": " not in rest and rest[-1] != ":":
                    value: Any = rest
                elif rest in self.flows:
                    items = self.flows[rest]
                    value = LSeq(items[:], [number] * len(items), number)
                else:
                    value = _inline(rest, number)
                    if type(value) is LSeq:
                        self.flows[rest] = value.items[:]
            elif i < n and rows[i][1] > indent:
                value, i = self.node(i, rows[i][1])
            elif i < n and rows[i][1] == indent and rows[i][2]:  # `key:` then `- item` at the key's indent
                value, i = self.sequence(i, indent)
            else:
                value = None
            values[key] = value
            lines[key] = number
        return mapping, i

    def sequence(self, i: int, indent: int) -> tuple[LSeq, int]:
        rows, n = self.rows, len(self.rows)
        items: list[Any] = []
        item_lines: list[int] = []
        start = rows[i][0]
        while i < n:
            number, level, dash, key, rest = rows[i]
            if level != indent or not dash:
                if level > indent:
                    raise _Outside
                break
            if key:
                item_lines.append(number)
                item, i = self.mapping(i, indent + len(dash), inline=True)
            elif rest and rest[0] != "#":
                item_lines.append(number)
                item = _inline(rest, number)
                i += 1
            else:  # `-` alone: the item is the block below it (an empty item is left to libyaml)
                i += 1
                if i >= n or rows[i][1] <= indent:
                    raise _Outside
                item_lines.append(rows[i][0])
                item, i = self.node(i, rows[i][1])
            items.append(item)
        return LSeq(items, item_lines, start), i


# -- libyaml -----------------------------------------------------------------------------------


def parse_with_libyaml(text: str, source: str) -> Any:
    """The document through libyaml's events (PyYAML's pure-Python parser when libyaml is missing)."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        return _compose(loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise InvalidInput(f"{where}: not valid YAML/JSON: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: not valid YAML/JSON: {exc}") from None
    except RecursionError:
        raise InvalidInput(f"{source}: nested too deeply (hundreds of levels) to read") from None
    finally:
        loader.dispose()


def _compose(loader: Any) -> Any:
    """The single document as LMap/LSeq/scalars, built straight from libyaml's events: five times
    faster than composing PyYAML nodes, and every value keeps its line."""
    import yaml

    loader.get_event()  # StreamStart
    event = loader.get_event()
    if isinstance(event, yaml.StreamEndEvent):
        return None
    value = _Composer(loader).value(loader.get_event())
    loader.get_event()  # DocumentEnd
    event = loader.get_event()
    if not isinstance(event, yaml.StreamEndEvent):
        raise yaml.MarkedYAMLError(problem="expected a single document", problem_mark=event.start_mark)
    return value


class _Composer:
    """Events to values. Plain scalars that no implicit resolver can claim (most keys and values)
    are taken as strings on the spot: the hot path of a 10,000-user file."""

    def __init__(self, loader: Any) -> None:
        import yaml

        self.loader = loader
        self.next_event = loader.get_event
        self.anchors: dict[str, Any] = {}
        self.plain_firsts = frozenset(loader.yaml_implicit_resolvers) - {None}
        self.resolved: dict[str, Any] = {}  # plain scalar text -> its value (immutable: str, bool, number, date)
        self.yaml = yaml

    def scalar(self, event: Any) -> Any:
        text = event.value
        if event.tag is None and event.implicit[0]:
            if text and text[0] not in self.plain_firsts:
                value: Any = text  # a plain scalar no implicit resolver can claim: a string
            elif text in self.resolved:
                value = self.resolved[text]
            else:  # resolved once per distinct text: `teams:` on every user costs one resolution
                value = self.resolved[text] = _scalar(self.loader, event)
        else:
            value = _scalar(self.loader, event)
        if event.anchor:
            self.anchors[event.anchor] = value
        return value

    def value(self, event: Any) -> Any:
        yaml = self.yaml
        kind = type(event)
        if kind is yaml.ScalarEvent:
            return self.scalar(event)
        next_event, scalar_event = self.next_event, yaml.ScalarEvent
        if kind is yaml.MappingStartEvent:
            mapping = LMap({}, {}, event.start_mark.line + 1)
            values, lines, end = mapping.values, mapping.lines, yaml.MappingEndEvent
            while True:
                key_event = next_event()
                if type(key_event) is end:
                    break
                key = self.scalar(key_event) if type(key_event) is scalar_event else self.value(key_event)
                key = key if isinstance(key, str) else str(plain(key))
                line = key_event.start_mark.line + 1
                if key in values:
                    mapping.duplicates.append((key, line))
                item = next_event()
                values[key] = self.scalar(item) if type(item) is scalar_event else self.value(item)
                lines[key] = line
            value: Any = mapping
        elif kind is yaml.SequenceStartEvent:
            items: list[Any] = []
            item_lines: list[int] = []
            end = yaml.SequenceEndEvent
            while True:
                item = next_event()
                if type(item) is end:
                    break
                item_lines.append(item.start_mark.line + 1)
                items.append(self.scalar(item) if type(item) is scalar_event else self.value(item))
            value = LSeq(items, item_lines, event.start_mark.line + 1)
        else:  # AliasEvent
            if event.anchor not in self.anchors:
                raise yaml.MarkedYAMLError(problem=f"unknown alias {event.anchor!r}", problem_mark=event.start_mark)
            return self.anchors[event.anchor]
        if event.anchor:
            self.anchors[event.anchor] = value
        return value


def _scalar(loader: Any, event: Any) -> Any:
    """A scalar as PyYAML's safe loader constructs it (plain scalars may resolve to int, float, bool,
    null or timestamp; quoted ones stay strings)."""
    import yaml

    tag = event.tag
    if tag is None or tag == "!":
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == "tag:yaml.org,2002:str":
        return event.value
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    return loader.construct_object(node)
