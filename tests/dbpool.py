"""Test databases reused across tests: a pool of clones, reset between tests, and drops off the path.

Creating a clone costs ~60 ms, but DROP DATABASE forces a checkpoint (0.2-1.9 s with fsync on, more on
a busy machine), which was most of the suite's time. So a test's database goes back to its pool when
the test left its definition as it found it: a background thread resets it while the next test runs
(empties the tables that got rows, rewinds the sequences, forgets planner and activity statistics,
drops dbctl's own side table; an empty database has its schemas dropped and `public` made again).
Anything else (DDL, database settings, a session still connected, a prepared transaction) and the
database is dropped instead, by another background thread, so no test waits for that checkpoint.

"Definition unchanged" is read from the system catalogs: every catalog of the database has the
same number of rows as in a fresh clone and none written after the last reset (xmin newer than the
transaction id taken once the reset was done). That covers tables, columns, indexes, constraints,
types and enum labels, functions, grants, comments, schemas, extensions and large objects without
listing their columns; a TRUNCATE or ANALYZE run by the test itself merely costs a fresh clone.
"""

from __future__ import annotations

import os
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field

import psycopg
from helpers import Database, database_url
from psycopg import sql

# Per-database catalogs a test could change through DDL, GRANT, COMMENT, ALTER DEFAULT PRIVILEGES, etc.
CATALOGS = (
    "pg_namespace", "pg_class", "pg_attribute", "pg_attrdef", "pg_constraint", "pg_index", "pg_inherits",
    "pg_partitioned_table", "pg_type", "pg_enum", "pg_range", "pg_proc", "pg_aggregate", "pg_operator",
    "pg_opclass", "pg_opfamily", "pg_amop", "pg_amproc", "pg_cast", "pg_collation", "pg_conversion",
    "pg_language", "pg_trigger", "pg_event_trigger", "pg_rewrite", "pg_policy", "pg_depend", "pg_description",
    "pg_seclabel", "pg_sequence", "pg_extension", "pg_default_acl", "pg_init_privs", "pg_statistic_ext",
    "pg_publication", "pg_publication_rel", "pg_foreign_data_wrapper", "pg_foreign_server",
    "pg_foreign_table", "pg_user_mapping", "pg_ts_config", "pg_ts_config_map", "pg_ts_dict",
    "pg_ts_parser", "pg_ts_template", "pg_transform", "pg_largeobject_metadata",
)
# The shared catalogs' rows about this database: ALTER DATABASE (owner, connection limit, grants,
# SET ...), ALTER ROLE ... IN DATABASE ... SET, COMMENT ON DATABASE.
DATABASE_ROWS = """
SELECT (SELECT count(*) FROM pg_database WHERE oid = d.oid AND age(xmin) <= age(%(since)s::xid))
     + (SELECT count(*) FROM pg_db_role_setting WHERE setdatabase = d.oid)
     + (SELECT count(*) FROM pg_shdescription WHERE objoid = d.oid AND classoid = 'pg_database'::regclass)
     + (SELECT count(*) FROM pg_prepared_xacts WHERE database = d.datname)
FROM pg_database d WHERE d.datname = current_database()
"""
CATALOG_ROWS = " UNION ALL ".join(
    f"SELECT '{c}', count(*), count(*) FILTER (WHERE age(xmin) <= age(%(since)s::xid)) FROM {c}" for c in CATALOGS)
USER_TABLES = """
SELECT c.oid::regclass::text AS name, pg_relation_size(c.oid) > 0 AS written
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
"""
OTHER_SESSIONS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""
# The schemas of an empty database, dropped and `public` made again as initdb makes it (owner, grants,
# comment, initial privileges): what a fresh empty database has, and those rows are the only new ones.
EMPTY_AGAIN = """
DO $$DECLARE s text; BEGIN
    FOR s IN SELECT nspname FROM pg_namespace WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%' LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', s);
    END LOOP;
END$$;
CREATE SCHEMA public AUTHORIZATION pg_database_owner;
GRANT USAGE ON SCHEMA public TO PUBLIC;
COMMENT ON SCHEMA public IS 'standard public schema';
INSERT INTO pg_init_privs SELECT oid, 'pg_namespace'::regclass, 0, 'i', nspacl FROM pg_namespace WHERE nspname = 'public'
"""
NEW_PUBLIC = {"pg_namespace": 1, "pg_description": 1, "pg_init_privs": 1}
PUBLIC = "SELECT nspowner::regrole::text, nspacl::text, obj_description(oid) FROM pg_namespace WHERE nspname = 'public'"
LOG = os.environ.get("DBCTL_TEST_POOL_LOG")  # a file to append why each dropped database was not reused
DBCTL_OBJECTS = 'DROP TABLE IF EXISTS public."dbctl_pending_invalidations"'  # budget runs create it on demand


class Dropper:
    """DROP DATABASE in a background thread, one at a time, so no test waits for its checkpoint."""

    def __init__(self, server_url: str) -> None:
        self.admin = Database(server_url)
        self.names: queue.Queue[str | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="dbctl-test-dropper", daemon=True)
        self.thread.start()

    def drop(self, name: str) -> None:
        self.names.put(name)

    def close(self) -> None:
        self.names.put(None)
        self.thread.join()

    def _run(self) -> None:
        while (name := self.names.get()) is not None:
            try:
                self.admin.drop(name)
            except psycopg.Error:
                pass  # the server went away: nothing left to tidy


@dataclass
class Baseline:
    """A fresh clone's catalog row counts, the contents of the tables that have rows, the sequences."""

    catalogs: dict[str, int]
    contents: dict[str, str]
    sequences: dict[str, int | None]
    public: tuple[str, ...] | None  # the `public` schema's owner, grants and comment


@dataclass
class Pool:
    """Clones of `template` (None: an empty database), each handed to one test at a time. A returned
    clone is reset by a background thread while the next test runs on another one."""

    server_url: str
    template: str | None
    prefix: str
    dropper: Dropper
    free: list[str] = field(default_factory=list)
    since: dict[str, str] = field(default_factory=dict)  # name -> the transaction id after its last reset
    baseline: Baseline | None = None
    resetting: int = 0  # clones given back and not reset yet
    ready: threading.Condition = field(default_factory=threading.Condition)
    returned: queue.Queue[tuple[Database, str] | None] = field(default_factory=queue.Queue)
    worker: threading.Thread | None = None

    def take(self) -> Database:
        with self.ready:  # a reset in flight (~0.1 s) is cheaper than a new clone and its drop
            self.ready.wait_for(lambda: bool(self.free) or not self.resetting)
            name = self.free.pop() if self.free else None
        if name is None:
            name = f"{self.prefix}_{uuid.uuid4().hex[:12]}"
            Database(self.server_url).create(name, template=self.template)
            with psycopg.connect(database_url(self.server_url, name), autocommit=True) as conn:
                if self.baseline is None:
                    self.baseline = _baseline(conn)
                self.since[name] = _xid(conn)
        return Database(database_url(self.server_url, name), name=name)

    def give_back(self, db: Database, test: str) -> None:
        """Back to the pool once reset, or dropped (later) when the test changed more than data."""
        if self.worker is None:
            self.worker = threading.Thread(target=self._work, name=f"dbctl-test-reset-{self.prefix}", daemon=True)
            self.worker.start()
        with self.ready:
            self.resetting += 1
        self.returned.put((db, test))

    def close(self) -> None:
        if self.worker is not None:
            self.returned.put(None)
            self.worker.join()
        for name in self.free:
            self.dropper.drop(name)
        self.free.clear()

    def _work(self) -> None:
        while (item := self.returned.get()) is not None:
            db, test = item
            reusable = self._recycle(db, test)
            with self.ready:
                self.resetting -= 1
                if reusable:
                    self.free.append(db.name)
                self.ready.notify_all()

    def _recycle(self, db: Database, test: str) -> bool:
        try:
            with psycopg.connect(db.url, autocommit=True) as conn:
                conn.execute("SET synchronous_commit = off")  # a lost reset costs nothing: the pool dies with us
                why = self._reset(conn, self.since[db.name])
                if not why:
                    self.since[db.name] = _xid(conn)
        except psycopg.Error as exc:
            why = f"reset failed: {exc}"
        if not why:
            return True
        if LOG:
            with open(LOG, "a") as log:
                log.write(f"{test}: dropped: {why}\n")
        del self.since[db.name]
        self.dropper.drop(db.name)
        return False

    def _reset(self, conn: psycopg.Connection, since: str) -> str:
        """Empty what the test wrote; or why the database cannot be reused (nothing reset then)."""
        assert self.baseline is not None
        if not _alone(conn):
            return "a session is still connected"  # it may hold locks, advisory locks or a transaction
        conn.execute(DBCTL_OBJECTS)
        changed = conn.execute(DATABASE_ROWS, {"since": since}).fetchone()
        if changed is None or changed[0]:
            return "database settings or a prepared transaction"
        catalogs = conn.execute(CATALOG_ROWS, {"since": since}).fetchall()
        edited = [c for c, n, new in catalogs if new or n != self.baseline.catalogs[c]]
        if edited and self.template is None:  # an empty database: drop every schema, make `public` again
            conn.execute(EMPTY_AGAIN)
            catalogs = conn.execute(CATALOG_ROWS, {"since": since}).fetchall()
            edited = [c for c, n, new in catalogs if new != NEW_PUBLIC.get(c, 0) or n != self.baseline.catalogs[c]]
            if conn.execute(PUBLIC).fetchone() != self.baseline.public:
                edited.append("public schema made again differs")
        if edited:
            return f"catalogs changed: {', '.join(edited)}"
        tables = conn.execute(USER_TABLES).fetchall()
        if any(_content(conn, name) != digest for name, digest in self.baseline.contents.items()):
            return "rows of a table the template has rows in"
        written = [name for name, was in tables if was and name not in self.baseline.contents]
        if written:
            conn.execute(f"TRUNCATE {', '.join(written)} RESTART IDENTITY CASCADE")
        for name, value in _sequences(conn).items():
            if value != self.baseline.sequences.get(name):
                start = self.baseline.sequences.get(name)
                conn.execute(f"ALTER SEQUENCE {name} RESTART" if start is None else f"SELECT setval('{name}', {start})")
        conn.execute("DELETE FROM pg_statistic WHERE starelid >= 16384")  # ANALYZE's column statistics
        conn.execute("SELECT pg_stat_reset()")  # pg_stat_user_tables and friends, as in a new database
        return ""


def _alone(conn: psycopg.Connection, wait: float = 2.0) -> bool:
    """No other client session on the database (a closed connection's backend takes a moment to go)."""
    deadline = time.monotonic() + wait
    while True:
        row = conn.execute(OTHER_SESSIONS).fetchone()
        if row is not None and row[0] == 0:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


def _xid(conn: psycopg.Connection) -> str:
    """The first transaction id not yet completed: catalog rows written from here on have a newer
    xmin (read from a snapshot, so no transaction id is spent and no commit waits for a flush)."""
    row = conn.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text").fetchone()
    assert row is not None
    return str(int(row[0]) & 0xFFFFFFFF)


def _content(conn: psycopg.Connection, table: str) -> str:
    row = conn.execute(sql.SQL("SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t")
                       .format(sql.SQL(table))).fetchone()
    return str(row[0]) if row else ""


def _sequences(conn: psycopg.Connection) -> dict[str, int | None]:
    rows = conn.execute("SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences").fetchall()
    return dict(rows)


def _baseline(conn: psycopg.Connection) -> Baseline:
    catalogs = {c: n for c, n, _ in conn.execute(CATALOG_ROWS, {"since": _xid(conn)}).fetchall()}
    contents = {name: _content(conn, name) for name, written in conn.execute(USER_TABLES).fetchall() if written}
    return Baseline(catalogs, contents, _sequences(conn), conn.execute(PUBLIC).fetchone())
