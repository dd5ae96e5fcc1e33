"""Helpers for the migrate tests: Prisma-layout migration directories and ledger inspection."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from helpers import Database, invoke

from litellm_dbctl.migrate import packaged
from litellm_dbctl.migrate.source import Source


def write_migrations(directory: Path, scripts: dict[str, str | bytes]) -> Path:
    """A Prisma-layout directory: one `<name>/migration.sql` per entry plus migration_lock.toml."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "migration_lock.toml").write_text('provider = "postgresql"\n')
    for name, script in scripts.items():
        (directory / name).mkdir(exist_ok=True)
        path = directory / name / "migration.sql"
        if isinstance(script, bytes):
            path.write_bytes(script)
        else:
            path.write_text(script)
    return directory


def copy_packaged(directory: Path, *, drop_newest: int = 0) -> Path:
    """The installed litellm-proxy-extras migrations, without the newest `drop_newest`: an older release."""
    installed, _ = packaged.directory()
    names = sorted(p.name for p in installed.iterdir() if p.is_dir())
    keep = names[: len(names) - drop_newest] if drop_newest else names
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(installed / "migration_lock.toml", directory / "migration_lock.toml")
    for name in keep:
        shutil.copytree(installed / name, directory / name)
    return directory


def migrate(db: Database, *args: str) -> Any:
    return invoke(["--database-url", db.url, "migrate", *args])


def ledger(db: Database) -> list[dict[str, Any]]:
    return db.query("SELECT * FROM _prisma_migrations ORDER BY started_at, migration_name")


def sha256(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def insert_prisma_row(db: Database, name: str, checksum: str, *, finished: bool = True, logs: str | None = None,
                      steps: int = 1, rolled_back: bool = False) -> None:
    """A ledger row shaped as Prisma's schema engine writes it."""
    db.execute(
        "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, "
        "started_at, applied_steps_count) VALUES (%s, %s, CASE WHEN %s THEN now() END, %s, %s, "
        "CASE WHEN %s THEN now() END, now(), %s)",
        (str(uuid.uuid4()), checksum, finished, name, logs, rolled_back, steps),
    )


PRISMA_LEDGER_DDL = """
CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)
"""


_catalogs: dict[tuple[str, ...], Any] = {}


@pytest.fixture
def reuse_scratch_catalogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build each expected catalog (a scratch database migrated for real) once per test run.

    For tests of what baseline and diff do with a comparison; the tests of the scratch databases
    themselves do not use it."""
    from litellm_dbctl.migrate import schema

    real = schema.expected_catalog

    def cached(target: Any, source: Source, **options: Any) -> Any:
        key = (*source.names(), str(target.schema), str(options.get("shadow_url")))
        if key not in _catalogs:
            _catalogs[key] = real(target, source, **options)
        return _catalogs[key]

    monkeypatch.setattr(schema, "expected_catalog", cached)


def with_params(url: str, params: str) -> str:
    """The URL with more query parameters (`schema=litellm`), whether or not it has some already."""
    return f"{url}{'&' if '?' in url else '?'}{params}"
