"""Who spent what: totals, top spenders and per-day series (`spend summary`, `top`, `daily`).

Two sources give the same answer: LiteLLM's daily tables (default; small, fast) and the spend logs
(`source="logs"`; every request, for what the daily tables cannot answer and to cross-check them).
Both count by LiteLLM's daily-table rules (reference §1.2-1.4, §1.9): a request is a caller request
(not an internal call, not a billed retry), a failure is `metadata.status = 'failure'`, days are the
UTC days of the request's start. NULL and '' ids are one group. A request counts once for each
distinct tag it carries, so tag groups overlap and are never summed into a total.

Each daily table holds one entity (user, team, org, end user, agent or tag) beside the key, model and
provider, so the daily source answers any question that names at most one entity kind; the others
need the logs and say so (InvalidInput, exit 2). Names (aliases, emails, key names) are resolved to
ids first (`names`).

Everything here only reads: callers pass a READ ONLY connection, so it works on a read replica.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import durations
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.common.periods import Period
from litellm_dbctl.daily import tables
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.spend.names import Filters, Label, Resolved, filter_labels, labels_for, resolve

if TYPE_CHECKING:
    import psycopg

SOURCES = ("daily", "logs")
DIMENSIONS = ("key", "user", "team", "org", "tag", "model", "provider", "end-user", "agent")
# The entity kinds that each live in their own daily table: CLI name -> the queries' name.
DAILY_TABLES = {table.name: table for table in tables.TABLES}
ENTITIES = {"user": "user", "team": "team", "org": "org", "end-user": "end_user", "agent": "agent", "tag": "tag"}
# The filter that names each daily table's entity.
TABLE_FILTER = {"user": "users", "team": "teams", "org": "orgs", "end_user": "end_users", "agent": "agents",
                "tag": "tags"}

ALL_GROUPS = 2**31 - 1  # "no top-N cut" for the queries' %(top)s


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    spend: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    requests: int = 0
    successful_requests: int = 0
    failed_requests: int = 0

    @property
    def failure_rate(self) -> float | None:
        """Failed / requests, None when there were no requests."""
        return self.failed_requests / self.requests if self.requests else None

    def __add__(self, other: Totals) -> Totals:
        return Totals(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @staticmethod
    def of(row: Mapping[str, Any]) -> Totals:
        values: dict[str, Any] = {f.name: (float if f.name == "spend" else int)(row[f.name] or 0) for f in fields(Totals)}
        return Totals(**values)


@dataclass(frozen=True)
class Group:
    """One row of a breakdown: a labelled group, or "other" (`label` None, `other_groups` > 0)."""

    label: Label | None
    totals: Totals
    other_groups: int = 0

    @property
    def is_other(self) -> bool:
        return self.label is None and self.other_groups > 0


@dataclass(frozen=True)
class Report:
    """What summary and top return."""

    source: str
    period: Period
    by: str | None
    groups: tuple[Group, ...]
    total: Totals | None  # None: the daily tables cannot say (several tags), see notes
    counted_days: tuple[date, date] | None  # the whole UTC days the daily tables covered
    filters: Mapping[str, Mapping[str, tuple[Label, ...]]]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DayRow:
    day: date
    group: Group  # without --by: the day's total (label None)


@dataclass(frozen=True)
class Series:
    source: str
    period: Period
    by: str | None
    days: tuple[date, ...]
    rows: tuple[DayRow, ...]
    counted_days: tuple[date, date] | None
    filters: Mapping[str, Mapping[str, tuple[Label, ...]]]
    notes: tuple[str, ...] = ()


# -- the two sources ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryPlan:
    query: str
    params: dict[str, Any]
    notes: tuple[str, ...]
    counted_days: tuple[date, date] | None
    identifiers: dict[str, str] | None = None  # the daily table a spend/daily_spend statement reads


def query_plan(source: str, period: Period, by: str | None, resolved: Resolved, *, per_day: bool,
               top: int) -> QueryPlan:
    """The statement and parameters that answer a question from `source`; InvalidInput when the
    daily tables cannot (several entity kinds, a total over several tags)."""
    if source not in SOURCES:
        raise InvalidInput(f"--source must be one of {', '.join(SOURCES)}, not {source!r}")
    if by is not None and by not in DIMENSIONS:
        raise InvalidInput(f"--by must be one of {', '.join(DIMENSIONS)}, not {by!r}")
    if source == "logs":
        params: dict[str, Any] = {
            "since": durations.utc_naive(period.since) if period.since else datetime(1, 1, 1),
            "until": durations.utc_naive(period.until),
            "per_day": per_day, "top": top, **resolved.params(),
        }
        if by == "tag":
            return QueryPlan("spend/logs_spend_by_tag", params, (), None)
        params["by"] = ENTITIES.get(by, by) if by else None
        return QueryPlan("spend/logs_spend", params, (), None)
    kinds = {table for table, name in TABLE_FILTER.items() if getattr(resolved, name) is not None}
    if by in ENTITIES:
        kinds.add(ENTITIES[by])
    if len(kinds) > 1:
        names = " and ".join(sorted(k.replace("_", "-") for k in kinds))
        raise InvalidInput(f"the daily tables hold one entity kind each, so they cannot combine {names}",
                           hint="add --source logs to compute it from LiteLLM_SpendLogs")
    table = kinds.pop() if kinds else "user"
    if table == "tag" and by != "tag" and resolved.tags is not None and len(resolved.tags) > 1:
        raise InvalidInput("several --tag values: the daily tag table counts a request once per tag, so a "
                           "total over them would count requests carrying two of them twice",
                           hint="add --source logs for the exact total")
    notes = []
    if not period.whole_days:
        notes.append(f"the daily tables hold whole UTC days: counted {period.first_day} .. {period.last_day}; "
                     "--source logs counts the exact period")
    entity_ids = getattr(resolved, TABLE_FILTER[table])
    params = {
        "first_day": period.first_day.isoformat(), "last_day": period.last_day.isoformat(),
        "by": None if by is None else "entity" if by in ENTITIES else by, "per_day": per_day, "top": top,
        "keys": resolved.params()["keys"], "models": resolved.params()["models"],
        "providers": resolved.params()["providers"],
        "entities": list(entity_ids) if entity_ids is not None else None,
    }
    return QueryPlan("spend/daily_spend", params, tuple(notes), (period.first_day, period.last_day),
                     daily_identifiers(table))


def daily_identifiers(table: str) -> dict[str, str]:
    """What a daily-table query's `{LiteLLM_DailyUserSpend}` and `{user_id}` stand for with `table`."""
    daily = DAILY_TABLES[table]
    return {"LiteLLM_DailyUserSpend": daily.table, "user_id": daily.entity_column}


def _groups(conn: psycopg.Connection, rows: Iterable[Mapping[str, Any]], by: str | None) -> list[tuple[Any, Group]]:
    rows = list(rows)
    labels = labels_for(conn, by, [r["group_id"] for r in rows if not r["is_other"]]) if by else {}
    out = []
    for row in rows:
        totals = Totals.of(row)
        if by is None:
            out.append((row["day"], Group(None, totals)))
        elif row["is_other"]:
            out.append((row["day"], Group(None, totals, other_groups=int(row["groups"]))))
        else:
            out.append((row["day"], Group(labels[row["group_id"]], totals)))
    return out


def report(conn: psycopg.Connection, period: Period, filters: Filters, *, by: str | None = None,
           limit: int = 10, source: str = "daily") -> Report:
    """Totals for the period (`by` None: `spend summary`), or the `limit` biggest groups by spend plus
    one "other" row and the total (`spend top`)."""
    if limit < 1:
        raise InvalidInput("--limit must be at least 1")
    resolved = resolve(conn, filters)
    plan = query_plan(source, period, by, resolved, per_day=False, top=limit if by else ALL_GROUPS)
    groups = [g for _, g in _groups(conn, sqlfiles.run(conn, plan.query, plan.params, identifiers=plan.identifiers), by)]
    notes = list(plan.notes)
    if by is None:
        total: Totals | None = groups[0].totals if groups else Totals()
        groups = []
    elif by != "tag":
        total = sum((g.totals for g in groups), Totals())
    else:
        notes.append("one request counts once for each tag it carries: tag rows overlap and are not summed "
                     "into the total")
        total = _tag_total(conn, period, resolved, source, groups, notes)
    return Report(source, period, by, tuple(groups), total, plan.counted_days, filter_labels(conn, resolved),
                  tuple(notes))


def _tag_total(conn: psycopg.Connection, period: Period, resolved: Resolved, source: str,
               groups: Sequence[Group], notes: list[str]) -> Totals | None:
    """The total of distinct requests beside a by-tag breakdown."""
    if source == "daily" and resolved.tags is not None:
        if len(resolved.tags) == 1:
            return sum((g.totals for g in groups), Totals())
        notes.append("the daily tables cannot count requests carrying any of several tags once: no total "
                     "(add --source logs)")
        return None
    without_tags = resolved if source == "logs" else replace(resolved, tags=None)
    plan = query_plan(source, period, None, without_tags, per_day=False, top=ALL_GROUPS)
    rows = sqlfiles.run(conn, plan.query, plan.params, identifiers=plan.identifiers)
    return Totals.of(rows[0]) if rows else Totals()


def series(conn: psycopg.Connection, period: Period, filters: Filters, *, by: str | None = None,
           limit: int = 5, source: str = "daily") -> Series:
    """Per UTC day: totals, or (with `by`) the `limit` biggest groups of the whole period plus "other"
    (per day, the groups that spent that day). Without `by`, days without spend are there with zeros."""
    if limit < 1:
        raise InvalidInput("--limit must be at least 1")
    resolved = resolve(conn, filters)
    plan = query_plan(source, period, by, resolved, per_day=True, top=limit if by else ALL_GROUPS)
    found = _groups(conn, sqlfiles.run(conn, plan.query, plan.params, identifiers=plan.identifiers), by)
    rows = [DayRow(date.fromisoformat(day), group) for day, group in found]
    days = tuple(period.days(min((r.day for r in rows), default=None)))
    if by is None:
        present = {r.day for r in rows}
        rows += [DayRow(day, Group(None, Totals())) for day in days if day not in present]
    rows.sort(key=lambda r: (r.day, r.group.is_other, -r.group.totals.spend))
    notes = list(plan.notes)
    if by == "tag":
        notes.append("one request counts once for each tag it carries: tag rows of a day overlap")
    return Series(source, period, by, days, tuple(rows), plan.counted_days, filter_labels(conn, resolved),
                  tuple(notes))
