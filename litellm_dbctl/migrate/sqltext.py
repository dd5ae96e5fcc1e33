"""Splitting a PostgreSQL script into statements, aware of quotes, dollar quotes and comments.

Used to decide whether a migration file can run inside a transaction and to lint it statement by
statement. A scanner this small is exact for what matters here (where statements end, what is code
and what is a literal or comment); it is not a parser. It jumps from one special character to the
next with a regex, so LiteLLM's 220 files split in a few milliseconds.

A `;` inside a SQL-standard routine body (`CREATE FUNCTION ... BEGIN ATOMIC ...; END`) does not end
the statement. Telling that apart needs a parser; this uses psql's own heuristic (psqlscan.l): in a
statement that starts CREATE [OR REPLACE] FUNCTION|PROCEDURE, a BEGIN outside parentheses opens a
block, CASE inside a block opens one too, and END closes one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPECIAL = re.compile(r"--|/\*|[';\"$]")
_DOLLAR = re.compile(r"\$(?:[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")
_BLOCK_EDGE = re.compile(r"/\*|\*/")
_WORD = re.compile(r"(?<![\w$])[^\W\d][\w$]*|[()]")  # an identifier or keyword, or a parenthesis
_ROUTINE_HEADS = frozenset({("create", "function"), ("create", "procedure"),
                            ("create", "or", "replace", "function"), ("create", "or", "replace", "procedure")})
_ROUTINE_PREFIXES = frozenset(head[:length] for head in _ROUTINE_HEADS for length in range(1, len(head) + 1))
_NON_TRANSACTIONAL = re.compile(
    r"^(?:CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY|DROP\s+INDEX\s+CONCURRENTLY|"
    r"REINDEX\b.*\bCONCURRENTLY|VACUUM\b|CREATE\s+DATABASE\b|DROP\s+DATABASE\b|ALTER\s+SYSTEM\b|"
    r"CREATE\s+TABLESPACE\b|DROP\s+TABLESPACE\b|"
    r"BEGIN\b|START\s+TRANSACTION\b|COMMIT\b|END\b|ROLLBACK\b)",
    re.I | re.S,
)


@dataclass(frozen=True)
class Statement:
    text: str  # the statement without comments (a comment's line breaks are kept) and without `;`
    line: int  # 1-based line of the script where its first token is


def split(script: str) -> list[Statement]:
    """The script's statements in order, comments removed, empty statements dropped."""
    statements: list[Statement] = []
    parts: list[str] = []  # the current statement's code, literals included
    start = -1  # offset of the current statement's first token, -1 before it
    position = 0
    length = len(script)
    block = _Block()

    def code(upto: int) -> None:
        nonlocal start
        chunk = script[position:upto]
        if start < 0 and chunk.strip():
            start = position + len(chunk) - len(chunk.lstrip())
        parts.append(chunk)
        if block.watching:
            block.scan(script, position, upto)

    def flush() -> None:
        nonlocal start
        text = "".join(parts).strip()
        if text:
            statements.append(Statement(text, script.count("\n", 0, start) + 1))
        parts.clear()
        start = -1
        block.reset()

    while position < length:
        match = _SPECIAL.search(script, position)
        if match is None:
            code(length)
            break
        code(match.start())
        position = match.start()
        token = match.group(0)
        if token == "--":  # to the line's end, \n or \r as in PostgreSQL's lexer
            end = script.find("\n", position)
            end = length if end == -1 else end
            carriage = script.find("\r", position, end)
            position = end if carriage == -1 else carriage
        elif token == "/*":
            end = _block_comment_end(script, position)
            parts.append(" " + "\n" * script.count("\n", position, end))
            position = end
        elif token == ";":
            if block.depth:  # inside BEGIN ATOMIC ... END: part of the statement
                parts.append(";")
            else:
                flush()
            position += 1
        elif token == "$":
            tag = _DOLLAR.match(script, position)
            if tag is None or _continues_identifier(script, position):
                parts.append("$")
                position += 1
                continue
            end = script.find(tag.group(0), tag.end())
            end = length if end == -1 else end + len(tag.group(0))
            if start < 0:
                start = position
            parts.append(script[position:end])
            position = end
        else:  # a quote: ' or "
            end = _quoted_end(script, position, token, escapes=token == "'" and _is_escape_string(script, position))
            if start < 0:
                start = position
            parts.append(script[position:end])
            position = end
    flush()
    return statements


class _Block:
    """psql's tracking of BEGIN ... END in a routine body, for one statement: its first words say
    whether it is CREATE [OR REPLACE] FUNCTION|PROCEDURE; if so, words outside parentheses move
    `depth`, and a `;` ends the statement only at depth 0."""

    __slots__ = ("depth", "parens", "routine", "watching", "words")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """For the next statement."""
        self.words: tuple[str, ...] = ()
        self.routine = False
        self.watching = True  # until the statement's head rules a routine out
        self.parens = 0
        self.depth = 0

    def scan(self, script: str, begin: int, end: int) -> None:
        for match in _WORD.finditer(script, begin, end):
            token = match.group(0)
            if token == "(":
                self.parens += 1
            elif token == ")":
                self.parens = max(self.parens - 1, 0)
            elif not self.routine:
                self.words += (token.lower(),)
                self.routine = self.words in _ROUTINE_HEADS
                self.watching = self.words in _ROUTINE_PREFIXES
                if not self.watching:
                    return
            elif not self.parens:
                word = token.lower()
                if word == "begin" or (word == "case" and self.depth):
                    self.depth += 1
                elif word == "end" and self.depth:
                    self.depth -= 1


def _block_comment_end(script: str, position: int) -> int:
    """Offset just past the block comment opened at `position` (block comments nest in PostgreSQL)."""
    depth = 0
    for edge in _BLOCK_EDGE.finditer(script, position):
        depth += 1 if edge.group(0) == "/*" else -1
        if depth == 0:
            return edge.end()
    return len(script)


def _quoted_end(script: str, position: int, quote: str, *, escapes: bool) -> int:
    """Offset just past the literal or quoted identifier opened at `position`."""
    index = position + 1
    length = len(script)
    while index < length:
        char = script[index]
        if escapes and char == "\\":
            index += 2
            continue
        if char == quote:
            if index + 1 < length and script[index + 1] == quote:
                index += 2
                continue
            return index + 1
        index += 1
    return length


def _is_escape_string(script: str, position: int) -> bool:
    """True for E'...' (backslash escapes apply), not for a word that happens to end in e."""
    if position == 0 or script[position - 1] not in "Ee":
        return False
    return position < 2 or not (script[position - 2].isalnum() or script[position - 2] in "_$")


def _continues_identifier(script: str, position: int) -> bool:
    """`$` inside an identifier (`a$b`, `a$$b`) or a positional parameter (`$1`) is not a dollar quote."""
    return position > 0 and (script[position - 1].isalnum() or script[position - 1] in "_$")


def needs_no_transaction(statements: list[Statement]) -> bool:
    """True when a script cannot run inside one transaction block (as Prisma would fail it there):
    it builds an index CONCURRENTLY, vacuums, or manages its own transactions."""
    return any(_NON_TRANSACTIONAL.match(s.text) for s in statements)
