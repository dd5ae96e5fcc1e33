"""Test harness: a real PostgreSQL, one migrated template per run, a clean clone per test.

The server is DBCTL_TEST_DATABASE_URL (an admin URL, e.g. postgresql://postgres@127.0.0.1/postgres)
when set, else an embedded one in a per-user scratch directory. LiteLLM's migrations are applied
once per run to a template database through `migrate deploy`; each test gets a clone of it
(`CREATE DATABASE ... TEMPLATE`, ~60 ms) instead of migrating afresh, taken from a pool of clones
that earlier tests left with their definition unchanged and that were reset since (tests/dbpool.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from dbpool import Dropper, Pool
from helpers import CliResult, Database, database_url, invoke

from litellm_dbctl.common import redaction
from litellm_dbctl.db import config
from litellm_dbctl.migrate.deploy import deploy
from litellm_dbctl.migrate.source import Source, load_source

# The fixture modules, as plugins (tests/ is on sys.path through pyproject's pytest `pythonpath`):
# their fixtures reach every test without being imported by name, and their asserts are rewritten.
pytest_plugins = ["fix_budget", "fix_commands", "fix_daily", "fix_migrate", "fix_outbox", "fix_provision",
                  "fix_redis"]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's DATABASE_URL, DIRECT_URL or REDIS_URL by accident."""
    for name in ("DATABASE_URL", "DIRECT_URL", "DBCTL_DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Secrets a test registers (random passwords) must not redact text in later tests."""
    before = set(redaction._secrets)
    yield
    redaction._secrets.intersection_update(before)


@pytest.fixture(scope="session")
def server_url() -> str:
    """An admin URL (database `postgres`) on the server every test uses."""
    url = os.environ.get("DBCTL_TEST_DATABASE_URL")
    if url:
        return url
    from litellm_dbctl.db import embedded

    directory = Path(os.environ.get("DBCTL_TEST_EMBEDDED_DIR") or f"/tmp/dbctl-test-embedded-{os.getuid()}")
    server = embedded.ensure_running(directory)
    with psycopg.connect(server.url, autocommit=True) as conn:
        # A throwaway test cluster: durability buys nothing here.
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
    return server.url


@pytest.fixture(scope="session")
def source() -> Source:
    return load_source()


@pytest.fixture(scope="session")
def dropper(server_url: str) -> Iterator[Dropper]:
    """Drops databases in the background: DROP DATABASE forces a checkpoint (up to ~2 s with fsync)."""
    dropper = Dropper(server_url)
    yield dropper
    dropper.close()


@pytest.fixture(scope="session")
def template(server_url: str, source: Source, dropper: Dropper) -> Iterator[str]:
    """A database migrated to LiteLLM's head with `migrate deploy`, used as the clone template."""
    name = f"dbctl_tpl_{uuid.uuid4().hex[:10]}"
    admin = Database(server_url)
    admin.create(name)
    deploy(config.parse(database_url(server_url, name), "test"), source)
    yield name
    dropper.drop(name)  # after the clones' drops: the queue is first in, first out


@pytest.fixture(scope="session")
def _clones(server_url: str, template: str, dropper: Dropper) -> Iterator[Pool]:
    pool = Pool(server_url, template, "dbctl_t", dropper)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def _empties(server_url: str, dropper: Dropper) -> Iterator[Pool]:
    pool = Pool(server_url, None, "dbctl_e", dropper)
    yield pool
    pool.close()


@pytest.fixture
def db(_clones: Pool, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A database at LiteLLM's head schema with no rows but the ledger's, all the test's own."""
    database = _clones.take()
    yield database
    _clones.give_back(database, request.node.nodeid)


@pytest.fixture
def empty_db(_empties: Pool, request: pytest.FixtureRequest) -> Iterator[Database]:
    """An empty database (no schema, no ledger), all the test's own."""
    database = _empties.take()
    yield database
    _empties.give_back(database, request.node.nodeid)


@pytest.fixture
def cli(db: Database) -> Callable[..., CliResult]:
    """Run dbctl in-process against the test's database: cli("migrate", "status", "--json")."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> CliResult:
        return invoke(["--database-url", db.url, *args], input=input, env=env)

    return run
