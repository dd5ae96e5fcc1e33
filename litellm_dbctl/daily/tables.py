"""LiteLLM's six daily spend tables (litellm-database.md §1), one per entity kind, and what picks the
work of a check or reconcile: the tables (`--table`), the UTC days (`--since`/`--until` are read by
common.periods) and the memory each day's statement may use (`--work-mem`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from litellm_dbctl.common.errors import InvalidInput

DEFAULT_WORK_MEM = "128MB"

@dataclass(frozen=True)
class DailyTable:
    name: str  # dbctl's short name, also the `daily` column of daily/diff
    table: str
    entity_column: str


TABLES: tuple[DailyTable, ...] = (
    DailyTable("user", "LiteLLM_DailyUserSpend", "user_id"),
    DailyTable("team", "LiteLLM_DailyTeamSpend", "team_id"),
    DailyTable("org", "LiteLLM_DailyOrganizationSpend", "organization_id"),
    DailyTable("end_user", "LiteLLM_DailyEndUserSpend", "end_user_id"),
    DailyTable("agent", "LiteLLM_DailyAgentSpend", "agent_id"),
    DailyTable("tag", "LiteLLM_DailyTagSpend", "tag"),
)
TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in TABLES)
BY_NAME = {t.name: t for t in TABLES}
_ALIASES = {
    **{t.table.lower(): t.name for t in TABLES},
    "organization": "org", "end-user": "end_user", "enduser": "end_user", "customer": "end_user",
    "users": "user", "teams": "team", "orgs": "org", "end_users": "end_user", "agents": "agent", "tags": "tag",
}


def resolve_tables(names: Iterable[str]) -> tuple[str, ...]:
    """Short table names in dbctl's order; all six when none are given. Raises InvalidInput."""
    wanted: set[str] = set()
    for raw in names:
        for part in raw.split(","):
            key = part.strip().lower()
            if not key:
                continue
            name = key if key in BY_NAME else _ALIASES.get(key)
            if name is None:
                raise InvalidInput(f"--table: unknown daily table {part.strip()!r}; "
                                   f"expected one of {', '.join(TABLE_NAMES)}")
            wanted.add(name)
    return tuple(n for n in TABLE_NAMES if n in wanted) if wanted else TABLE_NAMES


_MEMORY = re.compile(r"^\d+\s*(kB|MB|GB|TB)?$")


def validate_work_mem(value: str) -> str:
    """A PostgreSQL memory size for work_mem (`64MB`, `1GB`, kilobytes without a unit)."""
    if not _MEMORY.match(value.strip()):
        raise InvalidInput(f"--work-mem: {value!r} is not a memory size (e.g. 64MB, 1GB)")
    return value.strip()


def utc_today(now: datetime | None = None) -> date:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).date()


def days_between(since: date, until: date) -> list[date]:
    """Every day from `since` to `until`, both included. Raises InvalidInput when reversed."""
    if until < since:
        raise InvalidInput(f"--until {until} is before --since {since}")
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]
