"""The request-log indexes LiteLLM keeps out of its migrations, built without blocking writes.

schema.prisma declares two indexes on LiteLLM_SpendLogs that no migration builds: a plain CREATE
INDEX would block spend-log inserts for the whole build, and CONCURRENTLY is refused on a
partitioned parent. LiteLLM builds them after deploy (litellm_proxy_extras/request_log_indexes.py);
dbctl builds them the same way, under the same coordinator lock and with the same names, so either
recognises the other's work:

- plain table: CREATE INDEX CONCURRENTLY; an INVALID copy (an interrupted build) is dropped and
  built again; a valid equivalent index under another name is renamed instead of duplicated;
- partitioned table: the parent index ON ONLY (a catalog entry), one CONCURRENTLY build per
  partition (named as PostgreSQL and LiteLLM name them), then ALTER INDEX ... ATTACH PARTITION.

Every step re-reads the catalog under the lock, so an interrupted run resumes where it stopped and
a second run finds nothing to do. Each step holds the coordinator lock only while it runs, so a
proxy booting meanwhile gets in between partitions; a lock timeout is retried with backoff.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common.errors import IntegrityError, LockBusy, SchemaTooOld
from litellm_dbctl.db import database, sqlfiles
from litellm_dbctl.db.config import Target
from litellm_dbctl.migrate.locks import COORDINATOR_LOCK_KEY

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("dbctl")

SPEND_LOGS = "LiteLLM_SpendLogs"
_IDENTIFIER_MAX_BYTES = 63
_DIGEST_LENGTH = 8


@dataclass(frozen=True)
class RequestLogIndex:
    name: str
    columns: tuple[str, ...]
    query: str  # queries/indexes/create_<query>.sql (and _parent.sql for a partitioned table)
    table: str = SPEND_LOGS

    def partition_index_name(self, partition: str) -> str:
        """The index name on one partition: `<partition>_<suffix>` as LiteLLM names it, cut to
        PostgreSQL's 63-byte limit with a short digest so long partition names stay distinct."""
        suffix = self.name.removeprefix(f"{self.table}_")
        name = f"{partition}_{suffix}"
        if len(name.encode()) <= _IDENTIFIER_MAX_BYTES:
            return name
        digest = hashlib.sha256(name.encode()).hexdigest()[:_DIGEST_LENGTH]
        budget = _IDENTIFIER_MAX_BYTES - _DIGEST_LENGTH - 1
        kept = name
        while len(kept.encode()) > budget:
            kept = kept[:-1]
        return f"{kept}_{digest}"


REQUEST_LOG_INDEXES = (
    RequestLogIndex("LiteLLM_SpendLogs_api_key_startTime_idx", ("api_key", "startTime"), "api_key_starttime"),
    RequestLogIndex("LiteLLM_SpendLogs_litellm_call_id_idx", ("litellm_call_id",), "litellm_call_id"),
)


@dataclass(frozen=True)
class IndexAction:
    index: str
    table: str
    action: str  # present, adopted, built, rebuilt, created parent, attached; "would ..." in a dry run
    detail: str = ""


@dataclass(frozen=True)
class IndexReport:
    dry_run: bool
    actions: tuple[IndexAction, ...]

    @property
    def changes(self) -> list[IndexAction]:
        """What was (or, in a dry run, would be) done; `present` is no change."""
        return [a for a in self.actions if a.action != "present"]


@dataclass
class _Run:
    conn: Any
    dry_run: bool
    lock_timeout: float
    actions: list[IndexAction] = field(default_factory=list)

    def note(self, index: str, table: str, action: str, detail: str = "") -> None:
        done = f"would {_INFINITIVE[action]}" if self.dry_run and action in _INFINITIVE else action
        self.actions.append(IndexAction(index, table, done, detail))
        log.debug("%s %s on %s%s", done, index, table, f" ({detail})" if detail else "")

    def step(self, what: str, work: Callable[[], None]) -> None:
        """Run `work` under LiteLLM's coordinator lock, retried on lock timeout or deadlock."""
        def locked() -> None:
            with database.advisory_lock(self.conn, COORDINATOR_LOCK_KEY, timeout=self.lock_timeout, what=what):
                work()

        database.retry(locked, what=what,
                       on_retry=lambda exc, n: log.info("%s: %s; retrying (%d)", what, type(exc).__name__, n))


_INFINITIVE = {"adopted": "adopt", "built": "build", "rebuilt": "rebuild", "created parent": "create parent",
               "attached": "attach"}


def ensure(
    target: Target,
    *,
    dry_run: bool = False,
    lock_timeout: float = 30.0,
    statement_lock_timeout: str = "2s",
    indexes: tuple[RequestLogIndex, ...] = REQUEST_LOG_INDEXES,
) -> IndexReport:
    """Build every request-log index that is missing or INVALID; report what each needed.

    `dry_run` reads the catalog and reports the plan (CREATE INDEX CONCURRENTLY cannot run inside
    a transaction that could be rolled back). Raises SchemaTooOld when LiteLLM_SpendLogs (or a
    column) is not there yet, LockBusy when another session is building the same index.
    """
    with database.connect(target, command="migrate indexes", autocommit=True,
                          lock_timeout=statement_lock_timeout) as conn:
        run = _Run(conn, dry_run, lock_timeout)
        for index in indexes:  # every one before any is touched
            _check_schema(conn, index)
        for index in indexes:
            kind = sqlfiles.run(conn, "indexes/table_kind", {"table": index.table})
            if kind is None:
                raise SchemaTooOld(f"{index.table} does not exist in this schema",
                                   hint="run `dbctl migrate deploy`")
            if kind["partitioned"]:
                _partitioned(run, index, index.table, index.name)
            else:
                _leaf(run, index, index.table, index.name)
        return IndexReport(dry_run, tuple(run.actions))


def _check_schema(conn: psycopg.Connection, index: RequestLogIndex) -> None:
    """The create statement's `requires` against the ledger (exit 6 before anything is touched)."""
    sqlfiles.check_requires(conn, sqlfiles.get(f"indexes/create_{index.query}"))


def _state(conn: psycopg.Connection, name: str) -> dict[str, Any] | None:
    state: dict[str, Any] | None = sqlfiles.run(conn, "indexes/state", {"index": name})
    return state


def _foreign(state: dict[str, Any] | None, name: str, table: str) -> None:
    if state is not None and state["table"] != table:
        raise IntegrityError(f"an index named {name} already exists on {state['table']}, not {table}",
                             hint="rename or drop it by hand; dbctl will not touch it")


def _busy(state: dict[str, Any] | None, name: str) -> None:
    if state is not None and state["building"]:
        raise LockBusy(f"index {name} is being built by another session (pid {state['building']})",
                       hint="wait for that build to finish, then run `dbctl migrate indexes` again")


def _equivalent(conn: psycopg.Connection, index: RequestLogIndex, table: str, name: str) -> str | None:
    rows = sqlfiles.run(conn, "indexes/equivalent", {"table": table, "index": name, "columns": list(index.columns)})
    valid = [r["name"] for r in rows if r["valid"]]
    return valid[0] if valid else None


def _leaf(run: _Run, index: RequestLogIndex, table: str, name: str) -> None:
    """One plain table or partition: present, adopt an equivalent, or build CONCURRENTLY."""
    conn = run.conn
    state = _state(conn, name)
    _foreign(state, name, table)
    if state is not None and state["valid"]:
        run.note(name, table, "present")
        return
    _busy(state, name)
    equivalent = _equivalent(conn, index, table, name) if state is None else None
    if run.dry_run:
        if equivalent:
            run.note(name, table, "adopted", f"rename {equivalent}")
        else:
            run.note(name, table, "rebuilt" if state else "built", _size_detail(conn, table, state))
        return
    outcome: list[str] = []

    def build() -> None:
        current = _state(conn, name)  # again, under the lock: another runner may have finished it
        _foreign(current, name, table)
        if current is not None and current["valid"]:
            outcome[:] = ["present", ""]
            return
        _busy(current, name)
        if current is not None:
            sqlfiles.run(conn, "indexes/drop_invalid", identifiers={"index": name})
        else:
            found = _equivalent(conn, index, table, name)
            if found:
                sqlfiles.run(conn, "indexes/rename", identifiers={"old": found, "new": name})
                outcome[:] = ["adopted", f"renamed from {found}"]
                return
        detail = _size_detail(conn, table, current)
        log.info("building %s on %s concurrently (%s)", name, table, detail)
        try:
            sqlfiles.run(conn, f"indexes/create_{index.query}", identifiers={"index": name, "table": table})
        except Exception:
            # A failed or timed-out concurrent build leaves an INVALID index: clear it before a retry.
            if not conn.broken and (_state(conn, name) or {}).get("valid") is False:
                sqlfiles.run(conn, "indexes/drop_invalid", identifiers={"index": name})
            raise
        outcome[:] = ["rebuilt" if current is not None else "built", detail]

    run.step(f"building {name}", build)
    run.note(name, table, *outcome)


def _partitioned(run: _Run, index: RequestLogIndex, table: str, name: str) -> None:
    """A partitioned table: parent index ON ONLY, each partition's built CONCURRENTLY and attached."""
    conn = run.conn
    state = _state(conn, name)
    _foreign(state, name, table)
    if state is None:
        equivalent = _equivalent(conn, index, table, name)
        if run.dry_run:
            run.note(name, table, "adopted" if equivalent else "created parent",
                     f"rename {equivalent}" if equivalent else "ON ONLY")
        else:
            adopted: list[str] = []

            def create_parent() -> None:
                if _state(conn, name) is not None:
                    return
                found = _equivalent(conn, index, table, name)
                if found:
                    sqlfiles.run(conn, "indexes/rename", identifiers={"old": found, "new": name})
                    adopted.append(found)
                else:
                    sqlfiles.run(conn, f"indexes/create_{index.query}_parent",
                                 identifiers={"index": name, "table": table})

            run.step(f"creating parent index {name}", create_parent)
            run.note(name, table, *(("adopted", f"renamed from {adopted[0]}") if adopted
                                    else ("created parent", "ON ONLY")))
    schema = sqlfiles.run(conn, "ledger/current_schema")
    children = sqlfiles.run(conn, "indexes/partitions_without", {"table": table, "index": name})
    for child in children:
        if child["schema"] != schema:
            log.warning("partition %s.%s is outside schema %s; build its index by hand", child["schema"],
                        child["name"], schema)
            continue
        child_index = index.partition_index_name(child["name"])
        if child["partitioned"]:
            _partitioned(run, index, child["name"], child_index)
        else:
            _leaf(run, index, child["name"], child_index)
        if run.dry_run:
            run.note(child_index, child["name"], "attached", f"under {name}")
            continue
        run.step(f"attaching {child_index}",
                 partial(sqlfiles.run, conn, "indexes/attach", identifiers={"parent": name, "child": child_index}))
        run.note(child_index, child["name"], "attached", f"under {name}")
    if state is not None and not children:
        run.note(name, table, "present" if state["valid"] else "incomplete",
                 "" if state["valid"] else "every partition's index is attached, yet the parent is not valid")


def _size_detail(conn: psycopg.Connection, table: str, state: dict[str, Any] | None) -> str:
    size = sqlfiles.run(conn, "indexes/table_size", {"table": table})
    prefix = "INVALID copy dropped first; " if state is not None else ""
    return f"{prefix}~{size['estimated_rows']:,} rows, {size['bytes'] / 1048576:.1f} MiB" if size else prefix
