"""`queries check`: every named statement against a real schema, as sqlc vets its queries.

Three passes per statement: it parses (sqlglot, postgres dialect); every table it names and every
column it names through a table or alias exists in the catalog; and the server PREPAREs it (which
resolves every remaining name and type) inside a transaction that is rolled back. A statement with
`variant:` lines is checked once per variant, its identifiers bound to that variant's tables and
columns; identifiers without variants (names dbctl makes, like a scratch schema) are left to the
server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING

from litellm_dbctl.common.errors import SchemaTooOld
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.db.sqlfiles import Query

if TYPE_CHECKING:
    import psycopg

SYSTEM_COLUMNS = frozenset({"xmin", "xmax", "cmin", "cmax", "ctid", "tableoid"})
# dbctl's own tables (not LiteLLM's; the command that needs one creates it) and the statement creating
# each: made, where missing, in the transaction the check runs in and rolled back, so the statements
# on them check too. A read-only session cannot: there statements on a missing one are left unchecked.
OWN_TABLES = {"dbctl_pending_invalidations": "cache/create_owed",
              "dbctl_logs_prune_days": "logs/create_prune_days",
              # dbctl logs partition's staging table and conversion state
              "LiteLLM_SpendLogs_new": "logs/partition_new_create",
              "dbctl_logs_partition": "logs/partition_state_create",
              "dbctl_logs_partition_dirty": "logs/partition_dirty_create",
              "dbctl_logs_partition_index": "logs/partition_index_map_create",
              "dbctl_spend_ingest": "spend/ingest_create_stage"}
# LiteLLM tables newer than the packaged migrations (1.110's spend-log outbox). The commands that use
# one ask first whether the database has it; on a database without it their statements never run,
# so they are left unchecked there (and checked, like any other, where the table exists).
NEWER_TABLES = frozenset({"LiteLLM_SpendLogDelivery"})
PREPARABLE = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|VALUES|MERGE)\b", re.I)


@dataclass(frozen=True)
class Finding:
    query: str
    stage: str  # parse | catalog | prepare
    problem: str


def catalog(conn: psycopg.Connection) -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    for row in sqlfiles.run(conn, "db/catalog_columns"):
        tables.setdefault(row["table"], set()).add(row["column"])
    return tables


def check(conn: psycopg.Connection, queries: Iterable[Query]) -> list[Finding]:
    """Findings for `queries`; empty when every one parses, names real things and PREPAREs."""
    with conn.transaction(force_rollback=True):
        missing = _own_tables(conn)
        return _check(conn, queries, missing)


def _own_tables(conn: psycopg.Connection) -> set[str]:
    """Create dbctl's own tables inside the check's transaction; the findings "unknown table" of
    those it could not create (a read-only session)."""
    import psycopg  # here: the caller's connection has loaded it already

    missing = set()
    for table, name in OWN_TABLES.items():
        if name not in sqlfiles.registry():  # another set of files (a test's): none on this table
            continue
        try:
            with conn.transaction():
                sqlfiles.run(conn, name)
        except (psycopg.Error, SchemaTooOld):  # a table made like one of LiteLLM's needs that one
            missing.add(f"unknown table {table!r}")
    return missing


def _check(conn: psycopg.Connection, queries: Iterable[Query], missing: Set[str] = frozenset()) -> list[Finding]:
    """Findings; a statement whose only unknown tables are dbctl's own it could not create (`missing`)
    or LiteLLM's newer ones this database lacks is left unchecked."""
    known = catalog(conn)
    findings: list[Finding] = []
    for query in queries:
        if query.mode == "fragment":  # checked inside every statement that includes it
            continue
        statement, _ = sqlfiles.positional(query)
        placeholders = frozenset() if query.variants else frozenset(query.identifiers)
        for binding in sqlfiles.bindings(query):
            text = sqlfiles.bind(statement, binding)
            which = f" (variant {', '.join(binding.values())})" if query.variants else ""
            problems = parse_and_resolve(text, known, placeholders=placeholders)
            if problems and all(p in _absent_newer(known) or p in missing for _, p in problems):
                continue
            findings.extend(Finding(query.name, stage, p + which) for stage, p in problems)
            if not problems and PREPARABLE.match(text):
                problem = prepare(conn, text)
                if problem:
                    findings.append(Finding(query.name, "prepare", problem + which))
    return findings


def _absent_newer(known: dict[str, set[str]]) -> set[str]:
    """The "unknown table" findings of NEWER_TABLES this database lacks."""
    return {f"unknown table {t!r}" for t in NEWER_TABLES if t not in known}


def parse_and_resolve(text: str, known: dict[str, set[str]],
                      placeholders: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """Parse problems and unknown names. `placeholders` are `{identifier}` names bound at run time,
    not catalog names; a utility statement sqlglot cannot parse (`ON ONLY`, `WITH (FORCE)`, ...) is
    left to the server, as it cannot be PREPAREd either."""
    import logging

    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to a Command": utility statements, expected

    try:
        tree = sqlglot.parse_one(text, read="postgres")
    except SqlglotError as exc:
        return [("parse", str(exc).splitlines()[0])] if PREPARABLE.match(text) else []
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    aliases: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for table in tree.find_all(exp.Table):
        name = table.name
        if not name or name in ctes or table.db in ("information_schema",) or isinstance(table.this, exp.Anonymous):
            continue
        if isinstance(table.this, (exp.Func,)) or table.find_ancestor(exp.Lock) is not None:
            continue  # a set-returning function, or `FOR UPDATE OF alias` (an alias, not a table)
        if name in placeholders:
            continue
        if name not in known:
            problems.append(("catalog", f"unknown table {name!r}"))
            continue
        aliases[table.alias_or_name] = name
        aliases[name] = name
    for column in tree.find_all(exp.Column):
        qualifier = column.table
        if not qualifier or qualifier not in aliases or not column.name:
            continue
        table_name = aliases[qualifier]
        if column.name not in known[table_name] and column.name not in SYSTEM_COLUMNS:
            problems.append(("catalog", f"unknown column {table_name}.{column.name}"))
    return problems


def prepare(conn: psycopg.Connection, text: str) -> str | None:
    """PREPARE through libpq (no execution), in a transaction that is rolled back."""
    from psycopg import pq

    with conn.transaction(force_rollback=True):
        result = conn.pgconn.prepare(b"", text.encode())  # the unnamed statement: nothing to deallocate
        if result.status != pq.ExecStatus.COMMAND_OK:
            message = (result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b"").decode()
            return message or "PREPARE failed"
    return None
