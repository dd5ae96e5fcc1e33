"""The live schema against what the migrations produce: catalog snapshots, their differences,
scratch databases to migrate into, and the two commands built on them (`baseline`, `diff`).

A snapshot reads the current schema's tables, columns (type, nullability, default, identity,
generated), indexes, constraints, enums, views, functions and triggers as PostgreSQL itself
renders them, so two databases built by the same statements compare equal whatever their history.
The expected side is real: the migrations are applied to a scratch database with `deploy`'s own
code, never simulated. What LiteLLM keeps outside its migrations is left out of both sides: the
request-log indexes (and equivalent copies of them), partitions of a partitioned
LiteLLM_SpendLogs and that table's rewritten primary key.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from litellm_dbctl.common.errors import DbctlError, IntegrityError, InvalidInput, OperationalError
from litellm_dbctl.db import config, database, sqlfiles
from litellm_dbctl.db.config import Target
from litellm_dbctl.migrate import ledger
from litellm_dbctl.migrate.deploy import deploy
from litellm_dbctl.migrate.indexes import REQUEST_LOG_INDEXES, SPEND_LOGS
from litellm_dbctl.migrate.locks import connect_for_migrations, migration_locks
from litellm_dbctl.migrate.source import Source

if TYPE_CHECKING:
    from pathlib import Path

    import psycopg

log = logging.getLogger("dbctl")

KINDS = ("enum", "table", "column", "index", "constraint", "view", "function", "trigger")
CHILD_KINDS = ("column", "index", "constraint", "trigger")  # listed under a missing/extra table only once


# -- snapshots ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """Every compared object of one schema: (kind, name) -> attributes."""

    objects: dict[tuple[str, str], dict[str, Any]]
    partitioned_spend_logs: bool = False  # its primary key is rewritten: left out of both sides

    def __len__(self) -> int:
        return len(self.objects)


def snapshot(conn: psycopg.Connection) -> Catalog:
    """The current schema's catalog, without what LiteLLM builds outside its migrations."""
    objects: dict[tuple[str, str], dict[str, Any]] = {}
    tables = {r["name"]: r["partitioned"] for r in sqlfiles.run(conn, "migrate/catalog_tables")}
    partitioned_spend_logs = tables.get(SPEND_LOGS, False)
    for name, partitioned in tables.items():
        objects[("table", name)] = {} if name == SPEND_LOGS else {"partitioned": partitioned}
    for row in sqlfiles.run(conn, "migrate/catalog_columns"):
        if row["table"] not in tables:  # an extension's table (PostGIS's spatial_ref_sys, ...)
            continue
        objects[("column", f"{row['table']}.{row['name']}")] = {
            "table": row["table"], "type": row["type"], "not_null": row["not_null"], "default": row["default"],
            "identity": row["identity"], "generated": row["generated"]}
    for row in sqlfiles.run(conn, "migrate/catalog_indexes"):
        if row["table"] not in tables or _request_log_index(row) or \
                (partitioned_spend_logs and row["table"] == SPEND_LOGS and row["primary"]):
            continue
        objects[("index", row["name"])] = {"table": row["table"], "unique": row["unique"],
                                           "definition": row["definition"], "valid": row["valid"]}
    for row in sqlfiles.run(conn, "migrate/catalog_constraints"):
        if row["table"] not in tables:
            continue
        if partitioned_spend_logs and row["table"] == SPEND_LOGS and row["type"] == "p":
            continue
        objects[("constraint", f"{row['table']}.{row['name']}")] = {
            "table": row["table"], "type": _CONSTRAINT_TYPES.get(row["type"], row["type"]),
            "definition": row["definition"]}
    for row in sqlfiles.run(conn, "migrate/catalog_enums"):
        objects[("enum", row["name"])] = {"labels": list(row["labels"])}
    for row in sqlfiles.run(conn, "migrate/catalog_views"):
        objects[("view", row["name"])] = {"materialized": row["materialized"], "definition": row["definition"]}
    for row in sqlfiles.run(conn, "migrate/catalog_functions"):
        objects[("function", row["name"])] = {"returns": row["returns"], "language": row["language"],
                                              "source": row["source"]}
    for row in sqlfiles.run(conn, "migrate/catalog_triggers"):
        if row["table"] not in tables:
            continue
        objects[("trigger", f"{row['table']}.{row['name']}")] = {"table": row["table"],
                                                                "definition": row["definition"]}
    return Catalog(objects, partitioned_spend_logs)


def _spend_logs_key(kind: str, name: str, objects: dict[tuple[str, str], dict[str, Any]]) -> bool:
    """The plain LiteLLM_SpendLogs's primary key (its constraint and index), which a partitioned one
    replaces with ("request_id", "startTime")."""
    if kind == "index":
        kind, name = "constraint", f"{SPEND_LOGS}.{name}"
    attributes = (objects.get((kind, name)) if kind == "constraint" else None) or {}
    return attributes.get("table") == SPEND_LOGS and attributes.get("type") == "primary key"


_CONSTRAINT_TYPES = {"p": "primary key", "u": "unique", "f": "foreign key", "c": "check", "x": "exclusion"}


def _request_log_index(row: dict[str, Any]) -> bool:
    """One of the indexes LiteLLM builds after its migrations, by name or an equivalent copy."""
    if row["table"] != SPEND_LOGS:
        return False
    return any(row["name"] == index.name or (not row["unique"] and tuple(row["columns"]) == index.columns)
               for index in REQUEST_LOG_INDEXES)


# -- differences --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    kind: str  # table, column, index, constraint, enum, view, function, trigger
    name: str  # "LiteLLM_UserTable", "LiteLLM_UserTable.spend", an index name, ...
    change: str  # "missing" (the migrations have it, the database does not), "extra", "different"
    expected: dict[str, Any] | None  # as the migrations produce it
    actual: dict[str, Any] | None  # as the database has it

    def describe(self) -> str:
        """One readable line of detail."""
        if self.change == "missing":
            return "the migrations create it; the database lacks it" + _brief(self.expected)
        if self.change == "extra":
            return "the database has it; the migrations do not create it" + _brief(self.actual)
        assert self.expected is not None and self.actual is not None
        parts = [f"{key}: expected {_show(self.expected.get(key))}, found {_show(self.actual.get(key))}"
                 for key in self.expected if self.expected.get(key) != self.actual.get(key)]
        return "; ".join(parts)


def _brief(attributes: dict[str, Any] | None) -> str:
    if not attributes:
        return ""
    shown = {k: v for k, v in attributes.items() if k in ("type", "definition", "labels") and v is not None}
    return f" ({'; '.join(f'{k} {_show(v)}' for k, v in shown.items())})" if shown else ""


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = ", ".join(value) if isinstance(value, list) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."


def compare(expected: Catalog, actual: Catalog) -> list[Difference]:
    """What differs, kind by kind and name by name. A missing or extra table is one difference,
    not one per column, index and constraint it carries."""
    differences: list[Difference] = []
    if actual.partitioned_spend_logs and not expected.partitioned_spend_logs:
        expected = Catalog({k: v for k, v in expected.objects.items() if not _spend_logs_key(*k, expected.objects)})
    keys = set(expected.objects) | set(actual.objects)
    whole_tables = {name for kind, name in keys
                    if kind == "table" and ((kind, name) in expected.objects) != ((kind, name) in actual.objects)}
    for kind, name in keys:
        want, have = expected.objects.get((kind, name)), actual.objects.get((kind, name))
        if kind in CHILD_KINDS and (want or have or {}).get("table") in whole_tables:
            continue
        if want is None:
            differences.append(Difference(kind, name, "extra", None, have))
        elif have is None:
            differences.append(Difference(kind, name, "missing", want, None))
        elif want != have:
            differences.append(Difference(kind, name, "different", want, have))
    differences.sort(key=lambda d: (KINDS.index(d.kind), d.name))
    return differences


# -- scratch databases --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scratch:
    target: Target
    where: str  # for messages: "a scratch database on the same server", ...


@contextmanager
def scratch_database(target: Target, *, shadow_url: str | None = None) -> Iterator[Scratch]:
    """A fresh, empty place to apply migrations to, removed afterwards.

    With `shadow_url`: a new schema in that database (dropped afterwards; nothing else in it is
    touched). Otherwise a new database on the live server (CREATE DATABASE needs the CREATEDB
    privilege); without the privilege, a new database on the embedded server.
    """
    if shadow_url:
        shadow = config.parse(shadow_url, "--shadow-url")
        schema = f"dbctl_scratch_{uuid.uuid4().hex[:12]}"
        with database.connect(shadow, command="migrate scratch", autocommit=True) as admin:
            sqlfiles.run(admin, "ledger/create_schema", identifiers={"schema": schema})
            try:
                yield Scratch(Target(shadow.url, "--shadow-url", schema), f"schema {schema} of --shadow-url")
            finally:
                sqlfiles.run(admin, "migrate/drop_schema", identifiers={"schema": schema})
        return
    name = f"dbctl_scratch_{uuid.uuid4().hex[:12]}"
    server, where = target, "a scratch database on the same server"
    if target.embedded_dir is not None:  # its url is "" until started: the scratch URL needs the real one
        server = _embedded_server(target.embedded_dir)
    admin = database.connect(server, command="migrate scratch", autocommit=True)
    try:
        try:
            sqlfiles.run(admin, "migrate/create_database", identifiers={"database": name})
        except Exception as exc:
            if getattr(exc, "sqlstate", None) != "42501":
                raise
            admin.close()
            server, where = _embedded_server(), "a scratch database on the embedded server (no CREATEDB here)"
            log.info("no privilege to create a scratch database here; using the embedded server")
            admin = database.connect(server, command="migrate scratch", autocommit=True)
            sqlfiles.run(admin, "migrate/create_database", identifiers={"database": name})
        sqlfiles.run(admin, "migrate/scratch_settings", identifiers={"database": name})
        try:
            yield Scratch(Target(_with_database(server.url, name), "scratch", target.schema), where)
        finally:
            sqlfiles.run(admin, "migrate/drop_database", identifiers={"database": name})
    finally:
        admin.close()


def _embedded_server(directory: Path | None = None) -> Target:
    # The embedded server's module (subprocess, its package lookup) only when it is used.
    from litellm_dbctl.db import embedded

    server = embedded.ensure_running(directory or embedded.data_dir())
    return Target(server.url, "embedded", embedded_dir=server.directory)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "dbname"]
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(name), urlencode(query, quote_via=quote), ""))


def expected_catalog(target: Target, source: Source, *, shadow_url: str | None = None,
                     lock_timeout: float = 60.0) -> tuple[Catalog, str]:
    """The catalog `source`'s migrations produce from nothing, built in a scratch database."""
    with scratch_database(target, shadow_url=shadow_url) as scratch:
        try:
            deploy(scratch.target, source, lock_timeout=lock_timeout)
        except DbctlError as exc:
            raise OperationalError(f"replaying the migrations in {scratch.where} failed: {exc.message}") from None
        with database.connect(scratch.target, command="migrate scratch", read_only=True) as conn:
            return snapshot(conn), scratch.where


# -- diff ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffResult:
    compared_with: str  # what the live schema was compared with
    replayed: tuple[str, ...]  # the migrations applied to the scratch database
    differences: tuple[Difference, ...]
    notes: tuple[str, ...]  # why a difference may be expected (failed or modified migrations, ...)


def diff(target: Target, source: Source, *, shadow_url: str | None = None) -> DiffResult:
    """The live schema against what the migrations its ledger records as applied produce."""
    with database.connect(target, command="migrate diff", read_only=True) as conn:
        rows = ledger.read_ledger(conn)
        if rows is None:
            raise IntegrityError("no _prisma_migrations ledger: no migration is recorded as applied",
                                 hint="`dbctl migrate baseline --dry-run` compares the schema with the newest migration")
        actual = snapshot(conn)
    current = ledger.evaluate(source, rows)
    replayed = [m.name for m in current.migrations if m.state in (ledger.APPLIED, ledger.MODIFIED)]
    notes = [f"{m.name} is {m.state}: its changes cannot be replayed" for m in current.migrations
             if m.state in (ledger.FAILED, ledger.DB_ONLY)]
    notes += [f"{m.name} was modified after it was applied: replayed as the file is now"
              for m in current.named(ledger.MODIFIED)]
    expected, where = expected_catalog(target, source.only(replayed, f"{len(replayed)} applied migrations"),
                                       shadow_url=shadow_url)
    return DiffResult(f"the {len(replayed)} applied migrations of {source.label}, replayed in {where}",
                      tuple(replayed), tuple(compare(expected, actual)), tuple(notes))


# -- baseline -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineResult:
    compared_with: str
    matched: bool
    recorded: tuple[str, ...]  # migrations recorded as applied (empty when not matched or dry run)
    differences: tuple[Difference, ...]
    dry_run: bool


def baseline(target: Target, source: Source, *, to: str | None = None, shadow_url: str | None = None,
             dry_run: bool = False, lock_timeout: float = 60.0) -> BaselineResult:
    """Adopt a database whose schema exists but whose ledger does not: when its schema equals what
    the migrations (up to `to`) produce, record each of them applied, as `prisma migrate resolve
    --applied` would, in one transaction. Otherwise record nothing and return the differences.
    Data backfills inside those migrations are not replayed (nor are they by Prisma's baseline)."""
    if to is not None:
        source = source.up_to(to)
    with connect_for_migrations(target, "migrate baseline") as conn, \
         migration_locks(conn, timeout=lock_timeout, what="migrate baseline"):
        rows = ledger.read_ledger(conn)
        if rows:
            raise IntegrityError(f"the database already has a ledger ({len(rows)} rows): nothing to baseline",
                                 hint="see `dbctl migrate status`; `dbctl migrate resolve` edits single migrations")
        if not sqlfiles.run(conn, "db/user_tables"):
            raise InvalidInput("the schema has no tables: there is nothing to adopt",
                               hint="run `dbctl migrate deploy` to build it")
        with conn.transaction():
            actual = snapshot(conn)
        expected, where = expected_catalog(target, source, shadow_url=shadow_url, lock_timeout=lock_timeout)
        differences = compare(expected, actual)
        compared_with = f"{source.label} ({len(source.migrations)} migrations), replayed in {where}"
        if differences:
            return BaselineResult(compared_with, False, (), tuple(differences), dry_run)
        if not dry_run:
            with conn.transaction():
                ledger.ensure_ledger(conn, target)
                ledger.record_applied(conn, source.migrations)
            sqlfiles.forget_ledger(conn)
        return BaselineResult(compared_with, True, () if dry_run else tuple(source.names()), (), dry_run)
