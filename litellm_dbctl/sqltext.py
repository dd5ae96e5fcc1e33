"""Splitting a PostgreSQL script into statements, aware of quotes, dollar quotes and comments.

Used to decide whether a migration file can run inside a transaction and to lint it statement by
statement. A tokenizer this small is exact for what matters here (where statements end); it is not
a parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_NON_TRANSACTIONAL = re.compile(
    r"^(?:CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY|DROP\s+INDEX\s+CONCURRENTLY|"
    r"REINDEX\b.*\bCONCURRENTLY|VACUUM\b|CREATE\s+DATABASE\b|DROP\s+DATABASE\b|ALTER\s+SYSTEM\b|"
    r"BEGIN\b|START\s+TRANSACTION\b|COMMIT\b|END\b|ROLLBACK\b)",
    re.I | re.S,
)


@dataclass(frozen=True)
class Statement:
    text: str  # without comments, whitespace-collapsed ends
    line: int  # 1-based line where it starts in the script


def split(script: str) -> list[Statement]:
    """The script's statements, comments removed, in order."""
    statements: list[Statement] = []
    current: list[str] = []
    start_line = 1
    line = 1
    i = 0
    n = len(script)

    def flush() -> None:
        text = "".join(current).strip()
        if text:
            statements.append(Statement(text, start_line))
        current.clear()

    while i < n:
        ch = script[i]
        if not "".join(current).strip():
            start_line = line
        if ch == "-" and script.startswith("--", i):
            end = script.find("\n", i)
            i = n if end == -1 else end
            continue
        if ch == "/" and script.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if script.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif script.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            line += script.count("\n", i, j)
            current.append(" ")
            i = j
            continue
        if ch in ("'", '"'):
            j = i + 1
            while j < n:
                if script[j] == ch:
                    if j + 1 < n and script[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            current.append(script[i : j + 1])
            line += script.count("\n", i, j + 1)
            i = j + 1
            continue
        if ch == "$":
            match = _DOLLAR.match(script, i)
            if match:
                tag = match.group(0)
                end = script.find(tag, match.end())
                end = n if end == -1 else end + len(tag)
                current.append(script[i:end])
                line += script.count("\n", i, end)
                i = end
                continue
        if ch == ";":
            flush()
            i += 1
            continue
        if ch == "\n":
            line += 1
        current.append(ch)
        i += 1
    flush()
    return statements


def needs_no_transaction(statements: list[Statement]) -> bool:
    """True when a script cannot run inside one transaction block (as Prisma would fail it there):
    it builds an index CONCURRENTLY, vacuums, or manages its own transactions."""
    return any(_NON_TRANSACTIONAL.match(s.text) for s in statements)
