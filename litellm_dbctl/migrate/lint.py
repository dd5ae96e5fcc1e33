"""Lock-risk lint for migrations, in the spirit of squawk, ranked by what each lock would cost.

Each statement (and each statement inside a DO block) is matched against the shapes that block a
live proxy: an index built without CONCURRENTLY, a table rewrite (a column type change, a volatile
default, a stored generated or identity column, SET TABLESPACE / LOGGED), a full-table scan under
ACCESS EXCLUSIVE (SET NOT NULL, a foreign key or CHECK added without NOT VALID, UNIQUE or PRIMARY
KEY without USING INDEX), a NOT NULL column without a default, changes an older proxy cannot
survive (dropping or renaming a column or table), every row updated in one transaction, and a
file that takes such locks without setting lock_timeout first. A table created in the same file is
new and exempt. Findings carry file:line and are ranked by the live table's size.

Suppress a finding with a comment line right above the statement: `-- dbctl-lint: ignore RULE`
(squawk's `-- squawk-ignore RULE` is honoured too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.db import database, sqlfiles
from litellm_dbctl.db.config import Target
from litellm_dbctl.migrate import ledger, sqltext
from litellm_dbctl.migrate.source import Migration, Source

if TYPE_CHECKING:
    import psycopg

ERROR, WARNING = "error", "warning"

RULES: dict[str, tuple[str, str]] = {  # rule -> (severity, what to do instead)
    "require-concurrent-index-creation": (
        WARNING, "CREATE INDEX without CONCURRENTLY blocks every write to {table} for the whole build; "
                 "build it CONCURRENTLY in a file of its own"),
    "ban-concurrent-index-creation-in-transaction": (
        ERROR, "CREATE INDEX CONCURRENTLY next to other statements fails (25001: it cannot run inside a "
               "transaction block); give it a file of its own"),
    "require-concurrent-index-deletion": (
        WARNING, "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on {table}; use DROP INDEX CONCURRENTLY "
                 "in a file of its own"),
    "require-concurrent-reindex": (
        WARNING, "REINDEX without CONCURRENTLY blocks writes to {table}; use REINDEX ... CONCURRENTLY"),
    "adding-field-with-volatile-default": (
        WARNING, "a column added with a volatile default ({detail}) rewrites {table} under ACCESS EXCLUSIVE; "
                 "add it without a default, backfill in batches, then set the default"),
    "adding-not-nullable-field": (
        ERROR, "ADD COLUMN {detail} NOT NULL without a DEFAULT fails as soon as {table} has a row; add a default "
               "or add it nullable, backfill, then set NOT NULL"),
    "changing-column-type": (
        WARNING, "changing the type of {detail} rewrites {table} and its indexes under ACCESS EXCLUSIVE (unless "
                 "the change is binary-coercible, e.g. widening a varchar); add a new column and backfill"),
    "setting-not-null": (
        WARNING, "SET NOT NULL on {detail} scans all of {table} under ACCESS EXCLUSIVE; add CHECK ({detail} IS "
                 "NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL"),
    "constraint-missing-not-valid": (
        WARNING, "adding a {detail} constraint checks every row of {table} while blocking writes; add it NOT "
                 "VALID, then VALIDATE CONSTRAINT in a later statement"),
    "disallowed-unique-constraint": (
        WARNING, "adding a {detail} constraint builds its index under ACCESS EXCLUSIVE on {table}; CREATE UNIQUE "
                 "INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX"),
    "table-rewrite": (
        WARNING, "{detail} rewrites all of {table} under ACCESS EXCLUSIVE"),
    "ban-drop-column": (
        WARNING, "dropping {detail} breaks proxies of the previous version still reading it; drop it a release "
                 "after the code stops using it"),
    "ban-drop-table": (
        WARNING, "dropping {table} breaks proxies of the previous version still using it"),
    "renaming-column": (
        WARNING, "renaming {detail} breaks proxies of the previous version; add a new column instead"),
    "renaming-table": (
        WARNING, "renaming {table} breaks proxies of the previous version"),
    "full-table-update": (
        WARNING, "{detail} without WHERE locks every row of {table} until the migration commits, stalling the "
                 "proxy's writes to it; backfill in batches outside the migration"),
    "require-lock-timeout": (
        WARNING, "this file takes a lock that blocks {table} without setting lock_timeout first: while it waits, "
                 "every later read and write of {table} queues behind it; start with SET LOCAL lock_timeout = '5s' "
                 "(dbctl's deploy sets one per session; Prisma and LiteLLM's start-up do not)"),
}


@dataclass(frozen=True)
class Finding:
    migration: str
    file: str
    line: int
    rule: str
    severity: str
    table: str | None
    message: str
    estimated_rows: int | None = None  # of the live table; None when it does not exist (yet)
    bytes: int | None = None

    @property
    def location(self) -> str:
        return f"{self.migration}/migration.sql:{self.line}"


@dataclass(frozen=True)
class TableSize:
    table: str
    estimated_rows: int
    bytes: int


@dataclass(frozen=True)
class Facts:
    """What the live database says: relation -> its table's size, and volatile function names."""

    relations: Mapping[str, TableSize] = field(default_factory=dict)
    volatile: frozenset[str] = frozenset({"gen_random_uuid", "uuid_generate_v1", "uuid_generate_v4", "random",
                                          "clock_timestamp", "timeofday", "nextval", "txid_current"})


@dataclass(frozen=True)
class LintReport:
    linted: tuple[str, ...]
    findings: tuple[Finding, ...]


# -- the statement shapes -------------------------------------------------------------------------

_ID = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
_QNAME = rf"{_ID}(?:\s*\.\s*{_ID})?"
_F = re.I | re.S
CREATE_TABLE = re.compile(rf"^CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:UNLOGGED\s+|TEMP(?:ORARY)?\s+)?TABLE\s+"
                          rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<table>{_QNAME})", _F)
CREATE_INDEX = re.compile(rf"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?"
                          rf"(?:IF\s+NOT\s+EXISTS\s+)?(?:(?P<name>{_ID})\s+)?ON\s+(?:ONLY\s+)?(?P<table>{_QNAME})", _F)
DROP_INDEX = re.compile(rf"^DROP\s+INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?"
                        rf"(?P<names>{_QNAME}(?:\s*,\s*{_QNAME})*)", _F)
DROP_TABLE = re.compile(rf"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<names>{_QNAME}(?:\s*,\s*{_QNAME})*)", _F)
ALTER_TABLE = re.compile(rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>{_QNAME})\s*\*?\s+(?P<actions>.+)$",
                         _F)
REINDEX = re.compile(rf"^REINDEX\s+(?:\([^)]*\)\s*)?(?P<kind>INDEX|TABLE)\s+(?P<concurrently>CONCURRENTLY\s+)?"
                     rf"(?P<name>{_QNAME})", _F)
REWRITE_COMMAND = re.compile(r"^(?:VACUUM\b.*\bFULL\b|CLUSTER\b)", _F)
CREATE_TRIGGER = re.compile(rf"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\s+.*?\bON\s+(?P<table>{_QNAME})",
                            _F)
UPDATE = re.compile(rf"^UPDATE\s+(?:ONLY\s+)?(?P<table>{_QNAME})(?P<rest>.*)$", _F)
DELETE = re.compile(rf"^DELETE\s+FROM\s+(?:ONLY\s+)?(?P<table>{_QNAME})(?P<rest>.*)$", _F)
SET_LOCK_TIMEOUT = re.compile(r"^SET\s+(?:LOCAL\s+|SESSION\s+)?lock_timeout\b", _F)
DO_BLOCK = re.compile(r"^DO\s+(?:LANGUAGE\s+\w+\s+)?(?P<tag>\$(?:[A-Za-z_]\w*)?\$)", _F)
EMBEDDED = re.compile(r"\b(?:ALTER\s+TABLE|CREATE\s+(?:UNIQUE\s+)?INDEX|DROP\s+INDEX|DROP\s+TABLE|REINDEX|UPDATE|"
                      r"DELETE\s+FROM|CREATE\s+(?:OR\s+REPLACE\s+)?TRIGGER)\b", _F)

ADD_CONSTRAINT = re.compile(rf"^ADD\s+(?:CONSTRAINT\s+(?P<name>{_ID})\s+)?(?P<kind>PRIMARY\s+KEY|UNIQUE|FOREIGN\s+KEY|"
                            r"CHECK|EXCLUDE)\b(?P<rest>.*)$", _F)
ADD_COLUMN = re.compile(rf"^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?P<column>{_ID})\s+(?P<rest>.+)$", _F)
ALTER_TYPE = re.compile(rf"^ALTER\s+(?:COLUMN\s+)?(?P<column>{_ID})\s+(?:SET\s+DATA\s+)?TYPE\b", _F)
SET_NOT_NULL = re.compile(rf"^ALTER\s+(?:COLUMN\s+)?(?P<column>{_ID})\s+SET\s+NOT\s+NULL\b", _F)
DROP_COLUMN = re.compile(rf"^DROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?(?P<column>{_ID})", _F)
RENAME_COLUMN = re.compile(rf"^RENAME\s+(?:COLUMN\s+)?(?P<column>{_ID})\s+TO\b", _F)
RENAME_TABLE = re.compile(r"^RENAME\s+TO\b", _F)
REWRITING_ACTION = re.compile(r"^(?P<what>SET\s+TABLESPACE|SET\s+(?:UN)?LOGGED|SET\s+WITHOUT\s+OIDS)\b", _F)
VALIDATE = re.compile(r"^VALIDATE\s+CONSTRAINT\b", _F)
NOT_ADD_COLUMN = re.compile(r"^ADD\s+(?:CONSTRAINT|PRIMARY|UNIQUE|FOREIGN|CHECK|EXCLUDE)\b", _F)
NOT_DROP_COLUMN = re.compile(r"^DROP\s+(?:CONSTRAINT|DEFAULT|NOT\s+NULL|IDENTITY|EXPRESSION)\b", _F)
SERIAL = re.compile(r"^(?:SMALL|BIG)?SERIAL[248]?\b", re.I)
COLUMN_CONSTRAINT = r"(?:NOT\s+NULL|NULL|CONSTRAINT|CHECK|UNIQUE|PRIMARY\s+KEY|REFERENCES|GENERATED|COLLATE|DEFAULT)"
DEFAULT_EXPR = re.compile(rf"\bDEFAULT\s+(?P<expr>.+?)(?=\s+{COLUMN_CONSTRAINT}\b|$)", _F)
FUNCTION_CALL = re.compile(r"(?P<name>[A-Za-z_][\w$]*)\s*\(")
IGNORE = re.compile(r"--\s*(?:dbctl-lint\s*:\s*ignore|squawk-ignore)\b\s*(?P<rules>[\w\-, ]*)", re.I)


def _unquote(name: str) -> str:
    last: str = re.findall(_ID, name)[-1]
    return last[1:-1].replace('""', '"') if last.startswith('"') else last.lower()


def _mask_literals(text: str) -> str:
    """Literals emptied, so keywords inside strings do not count."""
    return re.sub(r"'(?:[^']|'')*'", "''", text)


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """`text` split at `separator` outside parentheses, quotes and identifiers."""
    parts, depth, start, index, quote = [], 0, 0, 0, ""
    while index < len(text):
        char = text[index]
        if quote:
            if char == quote:
                quote = "" if text[index + 1:index + 2] != quote else quote
                index += 1 if quote else 0
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
        index += 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


# -- linting --------------------------------------------------------------------------------------


@dataclass
class _File:
    """What linting one file has learned so far."""

    migration: Migration
    facts: Facts
    ignored: dict[int, set[str]]
    created_tables: set[str] = field(default_factory=set)
    created_indexes: set[str] = field(default_factory=set)
    lock_timeout: bool = False
    lock_timeout_reported: bool = False
    findings: list[Finding] = field(default_factory=list)

    def add(self, line: int, rule: str, table: str | None, detail: str = "") -> None:
        rules = self.ignored.get(line, set())
        if rule in rules or "all" in rules or (rules == {""}):
            return
        severity, template = RULES[rule]
        size = self.facts.relations.get(table) if table else None
        self.findings.append(Finding(
            self.migration.name, str(self.migration.path), line, rule, severity, table,
            template.format(table=table or "the table", detail=detail),
            size.estimated_rows if size else None, size.bytes if size else None))

    def existing(self, table: str) -> bool:
        return table not in self.created_tables

    def blocking_lock(self, line: int, table: str) -> None:
        """A lock that stops the table's writes: it needs lock_timeout set earlier in the file."""
        if self.existing(table) and not self.lock_timeout and not self.lock_timeout_reported:
            self.lock_timeout_reported = True
            self.add(line, "require-lock-timeout", table)


def lint_migration(migration: Migration, facts: Facts | None = None) -> list[Finding]:
    """The findings for one migration file (no database needed: `facts` only ranks and refines)."""
    state = _File(migration, facts or Facts(), _ignores(migration.sql))
    statements = migration.statements
    for statement in statements:
        _statement(state, statement.text, statement.line, alone=len(statements) == 1)
    return state.findings


def _ignores(script: str) -> dict[int, set[str]]:
    """Line -> rules suppressed for the statement starting there (comment lines right above it)."""
    lines = script.splitlines()
    ignored: dict[int, set[str]] = {}
    pending: set[str] = set()
    for number, text in enumerate(lines, 1):
        match = IGNORE.search(text)
        stripped = text.strip()
        if match:
            rules = {r.strip() for r in match["rules"].replace(",", " ").split()} or {""}
            pending |= rules
        elif stripped and not stripped.startswith("--"):
            if pending:
                ignored[number] = pending
            pending = set()
    return ignored


def _statement(state: _File, text: str, line: int, *, alone: bool) -> None:
    if SET_LOCK_TIMEOUT.match(text):
        state.lock_timeout = True
    elif match := CREATE_TABLE.match(text):
        state.created_tables.add(_unquote(match["table"]))
    elif match := CREATE_INDEX.match(text):
        table = _unquote(match["table"])
        if match["name"]:
            state.created_indexes.add(_unquote(match["name"]))
        if match["concurrently"] and not alone:
            state.add(line, "ban-concurrent-index-creation-in-transaction", table)
        elif not match["concurrently"] and state.existing(table):
            state.add(line, "require-concurrent-index-creation", table)
            state.blocking_lock(line, table)
    elif match := DROP_INDEX.match(text):
        if not match["concurrently"]:
            for name in split_top_level(match["names"]):
                index = _unquote(name)
                if index not in state.created_indexes:
                    size = state.facts.relations.get(index)
                    owner = size.table if size else None
                    state.add(line, "require-concurrent-index-deletion", owner)
                    if owner:
                        state.blocking_lock(line, owner)
    elif match := DROP_TABLE.match(text):
        for name in split_top_level(match["names"]):
            table = _unquote(name)
            if state.existing(table):
                state.add(line, "ban-drop-table", table)
                state.blocking_lock(line, table)
    elif match := ALTER_TABLE.match(text):
        table = _unquote(match["table"])
        if state.existing(table):
            actions = [" ".join(action.split()) for action in split_top_level(match["actions"])]
            grouped: dict[str, list[str]] = {}
            for action in actions:
                for rule, detail in _alter_action(action, state.facts.volatile):
                    grouped.setdefault(rule, []).append(detail)
            for rule, details in grouped.items():  # one finding per rule and statement
                state.add(line, rule, table, ", ".join(dict.fromkeys(d for d in details if d)))
            if not all(VALIDATE.match(action) for action in actions):
                state.blocking_lock(line, table)
    elif match := REINDEX.match(text):
        if not match["concurrently"]:
            name = _unquote(match["name"])
            size = state.facts.relations.get(name)
            state.add(line, "require-concurrent-reindex", size.table if size else name)
    elif REWRITE_COMMAND.match(text):
        names = re.findall(_QNAME, re.sub(r"\([^)]*\)", " ", text))[1:]
        rewritten = _unquote(names[-1]) if names and names[-1].upper() not in ("FULL", "VERBOSE", "ANALYZE") else None
        state.add(line, "table-rewrite", rewritten, "VACUUM FULL" if text.upper().startswith("VACUUM") else "CLUSTER")
    elif match := CREATE_TRIGGER.match(text):
        state.blocking_lock(line, _unquote(match["table"]))
    elif match := UPDATE.match(text) or DELETE.match(text):
        table = _unquote(match["table"])
        if state.existing(table) and not re.search(r"\bWHERE\b", _mask_literals(match["rest"]), re.I):
            state.add(line, "full-table-update", table, text.split()[0].upper())
    elif match := DO_BLOCK.match(text):
        _do_block(state, text, match, line)


def _do_block(state: _File, text: str, match: re.Match[str], line: int) -> None:
    """Statements inside `DO $$ ... $$` count as the file's own (Prisma wraps guarded DDL in them)."""
    tag = match["tag"]
    start = match.end()
    end = text.find(tag, start)
    body = text[start:end if end != -1 else len(text)]
    body_line = line + text.count("\n", 0, start)
    for inner in sqltext.split(body):
        found = EMBEDDED.search(inner.text)
        if found:
            offset = inner.text.count("\n", 0, found.start())
            _statement(state, inner.text[found.start():], body_line + inner.line - 1 + offset, alone=False)


def _alter_action(action: str, volatile_functions: frozenset[str]) -> list[tuple[str, str]]:
    """(rule, detail) for one action of an ALTER TABLE on an existing table."""
    if match := ADD_CONSTRAINT.match(action):
        kind = " ".join(match["kind"].upper().split())
        rest = _mask_literals(match["rest"])
        if kind in ("PRIMARY KEY", "UNIQUE") and not re.search(r"\bUSING\s+INDEX\b", rest, re.I):
            return [("disallowed-unique-constraint", kind)]
        if kind in ("FOREIGN KEY", "CHECK") and not re.search(r"\bNOT\s+VALID\b", rest, re.I):
            return [("constraint-missing-not-valid", kind)]
        return []
    if NOT_ADD_COLUMN.match(action) is None and (match := ADD_COLUMN.match(action)):
        return _add_column(f'"{_unquote(match["column"])}"', _mask_literals(match["rest"]), volatile_functions)
    if match := SET_NOT_NULL.match(action):
        return [("setting-not-null", f'"{_unquote(match["column"])}"')]
    if match := ALTER_TYPE.match(action):
        return [("changing-column-type", f'"{_unquote(match["column"])}"')]
    if RENAME_TABLE.match(action):
        return [("renaming-table", "")]
    if match := RENAME_COLUMN.match(action):
        return [("renaming-column", f'"{_unquote(match["column"])}"')]
    if NOT_DROP_COLUMN.match(action) is None and (match := DROP_COLUMN.match(action)):
        return [("ban-drop-column", f'"{_unquote(match["column"])}"')]
    if match := REWRITING_ACTION.match(action):
        return [("table-rewrite", " ".join(match["what"].upper().split()))]
    return []


def _add_column(name: str, rest: str, volatile_functions: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    default = DEFAULT_EXPR.search(rest)
    calls = {f["name"].lower() for f in FUNCTION_CALL.finditer(default["expr"])} if default else set()
    volatile = sorted(calls & (volatile_functions or Facts().volatile))
    if SERIAL.match(rest):
        found.append(("adding-field-with-volatile-default", f"{name} {rest.split()[0]}: nextval()"))
    elif volatile:
        found.append(("adding-field-with-volatile-default", f"{name}: {', '.join(volatile)}()"))
    elif re.search(r"\bGENERATED\s+ALWAYS\s+AS\s*\(.*\)\s*STORED\b", rest, re.I | re.S):
        found.append(("table-rewrite", f"adding the stored generated column {name}"))
    elif re.search(r"\bGENERATED\s+(?:ALWAYS|BY\s+DEFAULT)\s+AS\s+IDENTITY\b", rest, re.I):
        found.append(("table-rewrite", f"adding the identity column {name}"))
    elif re.search(r"\bNOT\s+NULL\b", rest, re.I) and not default:
        found.append(("adding-not-nullable-field", name))
    if re.search(r"\b(?:PRIMARY\s+KEY|UNIQUE)\b", rest, re.I):
        found.append(("disallowed-unique-constraint", "UNIQUE"))
    if re.search(r"\bREFERENCES\b", rest, re.I):
        found.append(("constraint-missing-not-valid", "FOREIGN KEY"))
    elif re.search(r"\bCHECK\b", rest, re.I):
        found.append(("constraint-missing-not-valid", "CHECK"))
    return found


def rank(findings: Iterable[Finding]) -> list[Finding]:
    """Biggest live table first (rows, then bytes); unknown tables last; then file order."""
    def key(finding: Finding) -> tuple[int, int, bool, str, int]:
        unknown = -1  # a table the database does not have (yet) sorts after every live one
        return (-(finding.bytes if finding.bytes is not None else unknown),
                -(finding.estimated_rows if finding.estimated_rows is not None else unknown),
                finding.severity != ERROR, finding.migration, finding.line)

    return sorted(findings, key=key)


def facts(conn: psycopg.Connection) -> Facts:
    relations = {r["name"]: TableSize(r["table"], r["estimated_rows"], r["bytes"])
                 for r in sqlfiles.run(conn, "lint/relation_sizes")}
    volatile = frozenset(r["name"].lower() for r in sqlfiles.run(conn, "lint/volatile_functions"))
    return Facts(relations, volatile | Facts().volatile)


def lint(target: Target, source: Source, *, everything: bool = False,
         exclude: Iterable[str] = ()) -> LintReport:
    """Lint the migrations the database has not applied (or, with `everything`, all of them)."""
    with database.connect(target, command="migrate lint", read_only=True) as conn:
        known = facts(conn)
        chosen = list(source.migrations) if everything else \
            [source.get(m.name) for m in ledger.status(conn, source).pending]
    skipped = set(exclude)
    unknown = skipped - set(RULES)
    if unknown:
        raise InvalidInput(f"--exclude: unknown rule(s) {', '.join(sorted(unknown))}; known: {', '.join(RULES)}")
    found = [f for m in chosen for f in lint_migration(m, known) if f.rule not in skipped]
    return LintReport(tuple(m.name for m in chosen), tuple(rank(found)))
