"""YAML documents as values that remember their lines: spec files and proxy configs.

libyaml (through PyYAML's C parser) reads the text; its events are turned straight into LMap/LSeq
and scalars, each with the line it came from, so messages can say `file:line`. Values are what
`yaml.safe_load` gives (YAML 1.1: booleans, numbers, dates, nulls), with anchors, aliases and merge
keys (`<<: *defaults`; in `<<: [*a, *b]` a's keys win, as the YAML spec says, where PyYAML 6.0.4
lets b's win for keys of two or more characters: yaml/pyyaml#953). A key given twice is kept in
`LMap.duplicates` for the caller to refuse, naming the field (the last value wins, as in
`yaml.safe_load`); so is a second `<<`, on which PyYAML's releases disagree.

`parse` gives the whole document; `entries` gives a mapping's top-level entries one at a time, and
the items of the lists the caller names (a spec's `users`) one at a time too, each dropped once the
caller moves on (anchors stay known to later items), from a str or a file read as it is parsed.

Events, not PyYAML's nodes: composing nodes costs several times as much (a Python node object and
resolver calls per scalar), and a 10,000-user spec file is read on every `provision` run. The
floor is PyYAML's: it makes a Python object of every event (1.7x the instructions of the regex
reader this replaced, for the bench's 10,000-user file). Plain keys and values no resolver can
claim (most of a spec) are taken inline in the mapping loop, without a call per scalar.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

import yaml

from litellm_dbctl.common.errors import InvalidInput

# Without libyaml, PyYAML's pure-Python parser gives the same events, slower.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_intern = sys.intern
_MERGE = "tag:yaml.org,2002:merge"


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


def parse(text: str | IO[str], source: str) -> Any:
    """The document as LMap/LSeq/scalars with line numbers (None when empty); InvalidInput naming
    `source` and the line for anything `yaml.safe_load` would refuse."""
    with _reading(text, source) as composer:
        return composer.document()


class Items:
    """A list read one item at a time, each dropped once the caller moves on: the `users` of a 50 MB
    spec never stand in memory together. Iterate once, for (line, item); anchors stay known to
    later items."""

    def __init__(self, composer: _Composer, line: int, source: str) -> None:
        self.line = line
        self._composer = composer
        self._source = source
        self._left = True

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        with _errors(self._source):
            yield from self._composer.items()
        self._left = False

    def skip(self) -> None:
        """Read past what the caller left unread (anchors in it stay defined)."""
        if self._left:
            for _ in self:
                pass


def entries(text: str | IO[str], source: str, lazy: Collection[str] = ()) -> Iterator[tuple[str | None, int, Any]]:
    """The document read one top-level entry at a time: (key, line, value) for a mapping, where a
    list under a key in `lazy` comes as `Items`; (None, line, Items) for a top-level list; (None,
    line, value) for a scalar; nothing for an empty document. Each entry is yielded as it is read, so a key given twice comes
    twice; InvalidInput as `parse` when the text turns out to be malformed further on."""
    with _reading(text, source) as composer:
        yield from composer.entries(lazy, source)


@contextmanager
def _errors(source: str) -> Iterator[None]:
    try:
        yield
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise InvalidInput(f"{where}: not valid YAML/JSON: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: not valid YAML/JSON: {exc}") from None
    except RecursionError:
        raise InvalidInput(f"{source}: nested too deeply (hundreds of levels) to read") from None
    except (OSError, UnicodeDecodeError) as exc:  # a file read as it is parsed
        raise InvalidInput(f"{source}: cannot read: {exc}") from None


@contextmanager
def _reading(text: str | IO[str], source: str) -> Iterator[_Composer]:
    loader = None
    try:
        with _errors(source):
            loader = _Loader(text)
            yield _Composer(loader)
    finally:
        if loader is not None:
            loader.dispose()


class _Composer:
    """Events to values. Plain scalars that no implicit resolver can claim (most keys and values)
    are taken as strings on the spot, and each distinct plain text is resolved once: the hot path
    of a 10,000-user file."""

    def __init__(self, loader: Any) -> None:  # a (C)SafeLoader: PyYAML's stubs leave most of it untyped
        self.loader = loader
        self.next_event = loader.get_event
        self.anchors: dict[str, Any] = {}
        self.plain_firsts = frozenset(loader.yaml_implicit_resolvers) - {None}
        self.resolved: dict[str, Any] = {}  # plain scalar text -> its value (immutable: str, bool, number, date)

    def document(self) -> Any:
        next_event = self.next_event
        next_event()  # StreamStart
        event = next_event()
        if type(event) is yaml.StreamEndEvent:
            return None
        value = self.value(next_event())
        self.end()
        return value

    def end(self) -> None:
        """After the document's root: its end, and no second document."""
        self.next_event()  # DocumentEnd
        event = self.next_event()
        if type(event) is not yaml.StreamEndEvent:
            raise yaml.MarkedYAMLError(problem="expected a single document", problem_mark=event.start_mark)

    def entries(self, lazy: Collection[str], source: str) -> Iterator[tuple[str | None, int, Any]]:
        """`entries`' steps: the root mapping's entries, or the root list's items, or the root."""
        next_event = self.next_event
        next_event()  # StreamStart
        if type(next_event()) is yaml.StreamEndEvent:
            return
        start = next_event()
        line = start.start_mark.line + 1
        if type(start) is yaml.SequenceStartEvent and not start.anchor:
            items = Items(self, line, source)
            yield None, line, items
            items.skip()
        elif type(start) is not yaml.MappingStartEvent:
            yield None, line, self.value(start)
        elif start.anchor:  # the root mapping aliased inside itself? read it whole
            root = self.value(start)
            for key, at in root.duplicates:
                yield key, at, None
            for key, value in root.values.items():
                yield key, root.at(key), value
        else:
            seen: set[str] = set()
            merges: list[LMap] = []
            while True:
                key_event = next_event()
                if type(key_event) is yaml.MappingEndEvent:
                    break
                line = key_event.start_mark.line + 1
                if type(key_event) is yaml.ScalarEvent and key_event.value == "<<" and self.is_merge(key_event):
                    if merges:  # a second merge key: the caller refuses it as a key given twice
                        yield "<<", line, None
                    merges.extend(self.merged(next_event()))
                    continue
                key = self.key(key_event)
                seen.add(key)
                event = next_event()
                if key in lazy and type(event) is yaml.SequenceStartEvent and not event.anchor:
                    items = Items(self, line, source)
                    yield key, line, items
                    items.skip()
                else:
                    yield key, line, self.scalar(event) if type(event) is yaml.ScalarEvent else self.value(event)
            if merges:  # merged keys come last: the document's own keys win, as in `parse`
                merged = LMap({}, {}, 0)
                _merge(merged, merges)
                for key, value in merged.values.items():
                    if key not in seen:
                        yield key, merged.lines[key], value
        self.end()

    def items(self) -> Iterator[tuple[int, Any]]:
        """The rest of a list whose start was read: (line, item) as each is read."""
        next_event, scalar_event, end = self.next_event, yaml.ScalarEvent, yaml.SequenceEndEvent
        while True:
            item = next_event()
            if type(item) is end:
                return
            yield item.start_mark.line + 1, self.scalar(item) if type(item) is scalar_event else self.value(item)

    def scalar(self, event: Any) -> Any:
        text = event.value
        if event.tag is None and event.implicit[0]:
            if text and text[0] not in self.plain_firsts:
                value: Any = text  # a plain scalar no implicit resolver can claim: a string
            elif text in self.resolved:
                value = self.resolved[text]
            else:
                if len(self.resolved) >= 4096:  # a memo of the common texts, not of every number in a file
                    self.resolved.clear()
                value = self.resolved[text] = self.construct(event)
        else:
            value = self.construct(event)
        if event.anchor:
            self.anchors[event.anchor] = value
        return value

    def construct(self, event: Any) -> Any:
        """A scalar as PyYAML's safe loader constructs it (plain scalars may resolve to int, float,
        bool, null or timestamp; quoted ones stay strings, explicit tags are obeyed)."""
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _STR:
            return event.value
        if tag == _MERGE:  # `<<` where a value belongs
            raise yaml.MarkedYAMLError(problem="a merge key `<<` holds no value", problem_mark=event.start_mark)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        return self.loader.construct_object(node)

    def value(self, event: Any) -> Any:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            return self.scalar(event)
        if kind is yaml.MappingStartEvent:
            value: Any = self.mapping(event)
        elif kind is yaml.SequenceStartEvent:
            value = self.sequence(event)
        else:  # AliasEvent
            if event.anchor not in self.anchors:
                raise yaml.MarkedYAMLError(problem=f"unknown alias {event.anchor!r}", problem_mark=event.start_mark)
            return self.anchors[event.anchor]
        if event.anchor:
            self.anchors[event.anchor] = value
        return value

    def mapping(self, start: Any) -> LMap:
        mapping = LMap({}, {}, start.start_mark.line + 1)
        values, lines = mapping.values, mapping.lines
        next_event, scalar_event, end = self.next_event, yaml.ScalarEvent, yaml.MappingEndEvent
        plain_firsts = self.plain_firsts
        merges: list[LMap] = []
        merge_keys = 0
        while True:
            key_event = next_event()
            if type(key_event) is end:
                break
            line = key_event.start_mark.line + 1
            text = key_event.value if type(key_event) is scalar_event else None
            if text and text[0] not in plain_firsts and key_event.tag is None and key_event.implicit[0] \
                    and not key_event.anchor:
                key = _intern(text)  # the common key: plain text no resolver claims (`scalar`'s fast path)
            elif text == "<<" and self.is_merge(key_event):
                merge_keys += 1
                if merge_keys > 1:  # PyYAML's releases disagree on which wins: the caller refuses it
                    mapping.duplicates.append(("<<", line))
                merges.extend(self.merged(next_event()))
                continue
            else:
                key = self.key(key_event)
            if key in values:
                mapping.duplicates.append((key, line))
            item = next_event()
            if type(item) is not scalar_event:
                values[key] = self.value(item)
            elif (text := item.value) and text[0] not in plain_firsts and item.tag is None and item.implicit[0] \
                    and not item.anchor:
                values[key] = text  # `scalar`'s fast path, inline: most values of a spec
            else:
                values[key] = self.scalar(item)
            lines[key] = line
        if merges:
            _merge(mapping, merges)
        return mapping

    def key(self, event: Any) -> str:
        """A mapping key as text, interned: a spec's field names are held by every record made of it."""
        key = self.scalar(event) if type(event) is yaml.ScalarEvent else self.value(event)
        return _intern(key) if type(key) is str else str(plain(key))

    def is_merge(self, event: Any) -> bool:
        """`<<` plain (or tagged !!merge) is YAML 1.1's merge key; quoted, it is the string."""
        return bool(event.implicit[0]) if event.tag is None else bool(event.tag == _MERGE)

    def merged(self, event: Any) -> list[LMap]:
        """The mappings a merge key brings in, the one whose keys win last: in `<<: [*a, *b]`, a."""
        value = self.value(event)
        if isinstance(value, LMap):
            return [value]
        if isinstance(value, LSeq) and all(isinstance(item, LMap) for item in value.items):
            return list(reversed(value.items))
        raise yaml.MarkedYAMLError(problem="expected a mapping or list of mappings for merging",
                                   problem_mark=event.start_mark)

    def sequence(self, start: Any) -> LSeq:
        items: list[Any] = []
        item_lines: list[int] = []
        next_event, scalar_event, end = self.next_event, yaml.ScalarEvent, yaml.SequenceEndEvent
        while True:
            item = next_event()
            if type(item) is end:
                break
            item_lines.append(item.start_mark.line + 1)
            items.append(self.scalar(item) if type(item) is scalar_event else self.value(item))
        return LSeq(items, item_lines, start.start_mark.line + 1)


def _merge(mapping: LMap, merges: list[LMap]) -> None:
    """Add the merged mappings' keys to MAPPING, in place: its own keys win, then later merges win
    over earlier ones; each merged key keeps the line where it is written."""
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for merged in merges:
        values.update(merged.values)
        lines.update(merged.lines)
    values.update(mapping.values)
    lines.update(mapping.lines)
    mapping.values, mapping.lines = values, lines
