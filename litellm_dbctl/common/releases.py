"""Which LiteLLM release line a database belongs to, from its migration ledger and a few tables.

The table: each LiteLLM migration dbctl knows -> the release line that introduced it (or, for the
packaged history, the line dbctl's rules start from). Built from the wheels (README: LiteLLM versions):
- 1.109: litellm-proxy-extras 0.4.110 (packaged; the line dbctl was written for) plus what 1.109.1's
  pin 0.4.113 adds (`20261015120000_add_environment_variables_revision_trigger` is named in the
  1.109.1 and 1.110.2 wheels' prisma_client.py; the others are tests/data's names for the DDL of the
  1.109.1 schema.prisma).
- 1.110: the DDL of the 1.110.2 schema.prisma (its pin 0.4.114.post1 is not on the package index;
  the names are ours, as in tests/data/migrations-1.110-extra): the spend outbox
  `LiteLLM_SpendLogDelivery` replaces 1.109's event ledger.

Tables tell the line where the ledger cannot (`prisma db push` writes no ledger row): the outbox
table is 1.110's, the event ledger's `LiteLLM_AccountingEvent` 1.109.1's. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from litellm_dbctl.common.release_migrations import PACKAGED_0_4_110

LINES: tuple[str, ...] = ("1.109", "1.110")  # oldest first; the last is the newest dbctl knows
NEWEST = LINES[-1]

MIGRATIONS: dict[str, str] = {
    **dict.fromkeys(PACKAGED_0_4_110, "1.109"),
    "20261015120000_add_environment_variables_revision_trigger": "1.109",
    "20261020000000_managed_file_created_by_index": "1.109",
    "20261021000000_background_interaction_settled_at_index": "1.109",
    "20261022000000_add_accounting_ledger": "1.109",
    "20261101000000_add_claude_code_plugin_versions": "1.110",
    "20261102000000_add_skill_submission_table": "1.110",
    "20261103000000_add_spend_log_delivery": "1.110",
}
NEWEST_KNOWN_MIGRATION = max(MIGRATIONS)

# A table present -> the line it shows at least (the tables the ledger query also looks for).
MARKER_TABLES: dict[str, str] = {
    "LiteLLM_AccountingEvent": "1.109",
    "LiteLLM_SpendLogDelivery": "1.110",
}


@dataclass(frozen=True)
class Release:
    """The LiteLLM release line whose rules dbctl applies to a database.

    `known` is False when the ledger has migrations in no release dbctl knows that are newer than
    the newest it knows (`newer`): the database was migrated by a newer LiteLLM than `line`, the
    newest dbctl knows. `source` says how the line was chosen: `ledger`, `tables`, `default` (no
    ledger, no marker table), or the override's name (`--litellm-version`, `DBCTL_LITELLM_VERSION`).
    """

    line: str
    known: bool
    source: str
    newest_migration: str | None = None
    newer: tuple[str, ...] = ()

    @property
    def outbox(self) -> bool:
        """Whether spend reaches the counters through LiteLLM_SpendLogDelivery (1.110 on)."""
        return order(self.line) >= order("1.110")

    def describe(self) -> str:
        """One line for `db status`."""
        if not self.known:
            return (f"newer than {self.line}, the newest release dbctl knows (database's newest migration "
                    f"{self.newer[-1]}; dbctl knows up to {NEWEST_KNOWN_MIGRATION})")
        how = {"ledger": f"from the ledger, newest {self.newest_migration}", "tables": "from the tables present",
               "default": "no ledger: dbctl's default"}.get(self.source, f"set by {self.source}")
        return f"{self.line} ({how})"


def order(line: str) -> tuple[int, ...]:
    return tuple(int(part) for part in line.split("."))


def line_of(version: str) -> str | None:
    """The known line of a version as an operator writes it (`1.110`, `1.110.2`, `v1.109.1`), or None."""
    parts = version.strip().removeprefix("v").split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        return None
    line = f"{int(parts[0])}.{int(parts[1])}"
    return line if line in LINES else None


# dbctl has the real migration names up to this line (litellm-proxy-extras 0.4.110, LiteLLM 1.109). The
# 1.110 names above are tests/data's: 1.110.2's pin, proxy-extras 0.4.114.post1, is not on the package
# index. So on a database with 1.110's own table, migrations dbctl cannot name are presumed 1.110's:
# refusing them would stop every real 1.110 database (exit 4 in cron), where the cost of the presumption
# is that a 1.111 database passes for 1.110 until dbctl learns 1.111's names.
NAMED_THROUGH = "1.109"


def newer_than_known(applied: Iterable[str], tables: Iterable[str] = ()) -> tuple[str, ...]:
    """Applied migrations in no known release and newer than the newest known one, in order.
    (An unknown name older than that, say a hand-made migration, does not make the schema newer;
    nor do unknown names beside the newest line's marker table while its names are ours: above.)"""
    if NEWEST != NAMED_THROUGH and any(MARKER_TABLES.get(t) == NEWEST for t in tables):
        return ()
    return tuple(sorted(n for n in applied if n not in MIGRATIONS and n > NEWEST_KNOWN_MIGRATION))


def detect(applied: Iterable[str], tables: Iterable[str] = ()) -> Release:
    """The release line of a database whose ledger has `applied` and which has the marker `tables`."""
    names = sorted(applied)
    tables = tuple(tables)
    newer = newer_than_known(names, tables)
    if newer:
        return Release(NEWEST, False, "ledger", names[-1], newer)
    from_ledger = [MIGRATIONS[n] for n in names if n in MIGRATIONS]
    from_tables = [MARKER_TABLES[t] for t in tables if t in MARKER_TABLES]
    newest = names[-1] if names else None
    if not from_ledger and not from_tables:
        return Release(LINES[0], True, "default", newest)
    ledger_line = max(from_ledger, key=order) if from_ledger else None
    tables_line = max(from_tables, key=order) if from_tables else None
    if ledger_line is not None and (tables_line is None or order(ledger_line) >= order(tables_line)):
        return Release(ledger_line, True, "ledger", newest)
    assert tables_line is not None
    return Release(tables_line, True, "tables", newest)


def overridden(release: Release, version: str, source: str) -> Release:
    """`release` with the line an operator named (already checked by `line_of`): its rules apply and
    a newer database is no longer refused; `newer` stays, for the warning."""
    line = line_of(version) or NEWEST
    return Release(line, True, source, release.newest_migration, release.newer)


def newer_warning(newer: tuple[str, ...]) -> str:
    """The one line every command prints on a database newer than dbctl knows."""
    return (f"warning: the database's newest migration {newer[-1]} is newer than LiteLLM {NEWEST} "
            f"({NEWEST_KNOWN_MIGRATION}), the newest release dbctl knows: dbctl's rules may be older than the schema")
