"""The migrations on disk: a Prisma-layout directory read into ordered, checksummed migrations.

Read the way Prisma's schema engine reads it (order, name limits, provider check, checksums), so
dbctl and Prisma agree on what a database's ledger rows mean.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.migrate import packaged

if TYPE_CHECKING:
    from litellm_dbctl.migrate import sqltext

PACKAGE = packaged.PACKAGE
MAX_NAME_BYTES = 200  # Prisma's P3010
PROVIDERS = ("postgresql", "postgres")  # what migration_lock.toml may say for PostgreSQL
_CONCURRENT_INDEX = re.compile(
    r'^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>"(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s+ON\b',
    re.I,
)


@dataclass(frozen=True)
class Migration:
    """One migration directory: its script and checksum; statements are split only when asked
    (deploy needs them for what is pending, lint for what it lints)."""

    name: str
    path: Path
    sql: str = field(repr=False)
    checksum: str  # lowercase hex SHA-256 of the file's bytes, as Prisma stores it

    @cached_property
    def statements(self) -> list[sqltext.Statement]:
        # sqltext compiles its scanner's regexes on import (~10 ms): `migrate status` never splits.
        from litellm_dbctl.migrate import sqltext

        return sqltext.split(self.sql)

    @cached_property
    def transactional(self) -> bool:
        """False for a lone CREATE INDEX CONCURRENTLY and the like: Prisma sends those with no
        transaction block around them, and so does dbctl."""
        # As in `statements`: sqltext only once a script is split.
        from litellm_dbctl.migrate import sqltext

        return not sqltext.needs_no_transaction(self.statements)

    @cached_property
    def concurrent_indexes(self) -> tuple[str, ...] | None:
        """The index names when every statement is a CREATE INDEX CONCURRENTLY, else None: such a
        file is safe to run again once its INVALID leftovers are dropped."""
        names = []
        for statement in self.statements:
            match = _CONCURRENT_INDEX.match(statement.text)
            if match is None:
                return None
            name = match["name"]
            names.append(name[1:-1].replace('""', '"') if name.startswith('"') else name.lower())
        return tuple(names) or None


@dataclass(frozen=True)
class Source:
    directory: Path
    label: str  # "litellm-proxy-extras 0.4.110" or the directory
    migrations: tuple[Migration, ...]

    def names(self) -> list[str]:
        return [m.name for m in self.migrations]

    def find(self, name: str) -> Migration | None:
        return next((m for m in self.migrations if m.name == name), None)

    def get(self, name: str) -> Migration:
        migration = self.find(name)
        if migration is None:
            raise InvalidInput(f"no migration named {name!r} in {self.label} (Prisma's P3017)")
        return migration

    def up_to(self, name: str) -> Source:
        """The source truncated after migration `name` (for `--to` and older schemas)."""
        self.get(name)
        kept = tuple(m for m in self.migrations if m.name <= name)
        return Source(self.directory, f"{self.label} up to {name}", kept)

    def only(self, names: Iterable[str], label: str) -> Source:
        wanted = set(names)
        return Source(self.directory, label, tuple(m for m in self.migrations if m.name in wanted))


def load_source(directory: Path | None = None) -> Source:
    """Read a Prisma-layout migrations directory (default: the installed litellm-proxy-extras):
    one `<name>/migration.sql` per migration, ordered by the full directory name as Prisma orders
    them, and `migration_lock.toml`, whose provider must be PostgreSQL (Prisma's P3019)."""
    if directory is None:
        directory, release = packaged.directory()
        label = f"{PACKAGE} {release}"
    else:
        label = str(directory)
    if not directory.is_dir():
        raise InvalidInput(f"migrations directory not found: {directory}")
    lock = directory / "migration_lock.toml"
    if lock.exists():
        match = re.search(r'^\s*provider\s*=\s*"([^"]*)"', lock.read_text(encoding="utf-8"), re.M)
        if match and match.group(1) not in PROVIDERS:
            raise InvalidInput(f"{lock}: provider is {match.group(1)!r}; dbctl applies only postgresql "
                               "migrations (Prisma's P3019)")
    migrations = []
    for child in sorted((p for p in directory.iterdir() if p.is_dir()), key=lambda p: p.name):
        if len(child.name.encode()) > MAX_NAME_BYTES:
            raise InvalidInput(f"{child}: a migration name longer than {MAX_NAME_BYTES} bytes (Prisma's P3010)")
        script = child / "migration.sql"
        try:
            data = script.read_bytes()
        except FileNotFoundError:
            raise InvalidInput(f"{child}: a migration directory without migration.sql (Prisma's P3015)") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{script}: not UTF-8 text") from None
        migrations.append(Migration(child.name, script, text, hashlib.sha256(data).hexdigest()))
    return Source(directory, label, tuple(migrations))


def checksum_matches(stored: str, migration: Migration) -> bool:
    """Prisma's comparison: the script as it is, with CRLF turned into LF, or with LF turned into
    CRLF; a stored value that is not 64 characters is compared with the unpadded hex rendering old
    schema engines wrote (prisma-engines#1887)."""
    if stored == migration.checksum:
        return True
    script = migration.sql
    for variant in (script, script.replace("\r\n", "\n"), script.replace("\n", "\r\n")):
        digest = hashlib.sha256(variant.encode()).digest()
        rendered = digest.hex() if not stored or len(stored) == 64 else "".join(f"{b:x}" for b in digest)
        if rendered == stored:
            return True
    return False
