"""The LiteLLM 1.110 tables for tests: packaged 0.4.110 migrations plus tests/data/migrations-1.110-extra.

litellm-proxy-extras 0.4.114.post1 (litellm 1.110.2's pin) is not on the package index, so the
migrations past 0.4.110 are kept in the repository and assembled here with the installed ones.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbpool import Dropper, Pool
from fix_migrate import copy_packaged
from helpers import ROOT, Database, database_url, invoke

EXTRA = ROOT / "tests" / "data" / "migrations-1.110-extra"
SPEND_LOG_DELIVERY = "20261103000000_add_spend_log_delivery"


def assemble_1110(directory: Path) -> Path:
    """A Prisma-layout directory: the installed 0.4.110 migrations plus the ones to 1.110.2."""
    copy_packaged(directory)
    for migration in sorted(p for p in EXTRA.iterdir() if p.is_dir()):
        shutil.copytree(migration, directory / migration.name)
    return directory


@pytest.fixture(scope="session")
def migrations_1110(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migration set of LiteLLM 1.110.2 (for `--migrations-dir`)."""
    return assemble_1110(tmp_path_factory.mktemp("migrations-1.110"))


@pytest.fixture(scope="session")
def outbox_template(server_url: str, migrations_1110: Path, dropper: Dropper) -> Iterator[str]:
    """A database migrated to 1.110.2's schema with `migrate deploy --migrations-dir`, used as a template."""
    name = f"dbctl_tpl110_{uuid.uuid4().hex[:10]}"
    admin = Database(server_url)
    admin.create(name)
    result = invoke(["--database-url", database_url(server_url, name), "migrate", "deploy",
                     "--migrations-dir", str(migrations_1110)])
    assert result.code == 0, result
    yield name
    dropper.drop(name)  # after the clones' drops: the queue is first in, first out


@pytest.fixture(scope="session")
def _outbox_clones(server_url: str, outbox_template: str, dropper: Dropper) -> Iterator[Pool]:
    pool = Pool(server_url, outbox_template, "dbctl_o", dropper)
    yield pool
    pool.close()


@pytest.fixture
def outbox_db(_outbox_clones: Pool, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A database at LiteLLM 1.110.2's schema (with `LiteLLM_SpendLogDelivery`), all the test's own
    (a clone from the pool, as `db` is)."""
    database = _outbox_clones.take()
    yield database
    _outbox_clones.give_back(database, request.node.nodeid)


def add_delivery(db: Database, request_id: str, *, state: str = "pending", attempts: int = 0,
                 last_error: str | None = None, age: str = "1 minute", payload: dict[str, Any] | None = None) -> None:
    """A LiteLLM_SpendLogDelivery row as 1.110.2's insert_with_deliveries and worker leave it."""
    db.execute(
        'INSERT INTO "LiteLLM_SpendLogDelivery" (delivery_id, request_id, state, accounting_payload, is_batch, '
        "attempts, next_attempt_at, applied_at, last_error, created_at) VALUES (%s, %s, %s::\"AccountingDeliveryState\", "
        "%s::jsonb, false, %s, LOCALTIMESTAMP + interval '5 minutes', "
        "CASE WHEN %s = 'applied' THEN LOCALTIMESTAMP END, %s, LOCALTIMESTAMP - %s::interval)",
        (request_id, request_id, state, json.dumps(payload or {"request_id": request_id}), attempts, state,
         last_error, age))
