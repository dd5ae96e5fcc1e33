"""Who spent what: totals, top spenders, per-day series, recent spend logs and exports.

Two sources give the same answer: LiteLLM's daily tables (default; small, fast) and the spend logs
(`source="logs"`; every request, for what the daily tables cannot answer and to cross-check them).
Both count by LiteLLM's daily-table rules (reference §1.2-1.4, §1.9): a request is a caller request
(not an internal call, not a billed retry), a failure is `metadata.status = 'failure'`, days are the
UTC days of the request's start. NULL and '' ids are one group. A request counts once for each
distinct tag it carries, so tag groups overlap and are never summed into a total.

Each daily table holds one entity (user, team, org, end user, agent or tag) beside the key, model and
provider, so the daily source answers any question that names at most one entity kind; the others
need the logs and say so (InvalidInput, exit 2). Names (aliases, emails, key names) are resolved to
ids first; a name that matches nothing is refused with the closest names.

Everything here only reads: callers pass a READ ONLY connection, so it works on a read replica.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import IO, TYPE_CHECKING, Any

from litellm_dbctl.common import durations
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.daily import aggregates
from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg

SOURCES = ("daily", "logs")
DIMENSIONS = ("key", "user", "team", "org", "tag", "model", "provider", "end-user", "agent")
# The entity kinds that each live in their own daily table: CLI name -> the queries' name.
DAILY_TABLES = {table.name: table for table in aggregates.TABLES}
ENTITIES = {"user": "user", "team": "team", "org": "org", "end-user": "end_user", "agent": "agent", "tag": "tag"}
# The filter that names each daily table's entity.
TABLE_FILTER = {"user": "users", "team": "teams", "org": "orgs", "end_user": "end_users", "agent": "agents",
                "tag": "tags"}
EXPORT_FORMATS = tuple(sqlfiles.COPY_OUT)
ALL_GROUPS = 2**31 - 1  # "no top-N cut" for the queries' %(top)s

_RELATIVE = re.compile(r"^(\d+)\s*([hdw])$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# -- periods ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """[since, until) in UTC. `since` None: from the beginning; `open_end`: `until` is now."""

    since: datetime | None
    until: datetime
    open_end: bool = False

    @property
    def first_day(self) -> date:
        return self.since.date() if self.since else date.min

    @property
    def last_day(self) -> date:
        return (self.until - timedelta(microseconds=1)).date()

    @property
    def whole_days(self) -> bool:
        """True when both ends fall on UTC midnight (or `until` is now): the daily tables fit exactly."""
        midnight = time(0, tzinfo=timezone.utc)
        return ((self.since is None or self.since.timetz() == midnight)
                and (self.open_end or self.until.timetz() == midnight))

    def days(self, first: date | None = None) -> list[date]:
        """Every UTC day of the period (from `first` when it starts at the beginning of time)."""
        start = first if self.since is None else self.first_day
        if start is None:
            return []
        return [start + timedelta(days=n) for n in range((self.last_day - start).days + 1)]


def parse_moment(text: str, now: datetime, *, option: str, until: bool = False) -> datetime | None:
    """One end of a period: `7d`/`4w` (that many UTC days including today), `24h`, `YYYY-MM-DD`
    (a UTC day; as --until it includes that day), an ISO date-time (UTC unless it has an offset),
    `today`, `yesterday`, `now`, or `all` (--since only: from the beginning)."""
    value = text.strip().lower()
    today = datetime.combine(now.date(), time(0), tzinfo=timezone.utc)
    if value == "all" and not until:
        return None
    if value == "now":
        return now
    if value in ("today", "yesterday"):
        start = today - timedelta(days=1 if value == "yesterday" else 0)
        return start + timedelta(days=1) if until else start
    match = _RELATIVE.match(value)
    if match:
        count, unit = int(match.group(1)), match.group(2)
        if unit == "h":
            return now - timedelta(hours=count)
        days = count * (7 if unit == "w" else 1)
        if days < 1:
            raise InvalidInput(f"{option} {text!r}: a period of days must be at least 1d")
        return today - timedelta(days=days - 1)
    if _DAY.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{option} {text!r}: not a valid date") from None
        start = datetime.combine(day, time(0), tzinfo=timezone.utc)
        return start + timedelta(days=1) if until else start
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r}: expected 7d, 24h, 4w, YYYY-MM-DD, an ISO date-time, today, yesterday"
            + ("" if until else " or all")
        ) from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def period(since: str | None, until: str | None, *, default_since: str = "30d",
           now: datetime | None = None) -> Period:
    """The period of `--since` / `--until` (default: `default_since` until now)."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    start = parse_moment(since or default_since, now, option="--since")
    end = parse_moment(until, now, option="--until", until=True) if until else now
    assert end is not None
    if start is not None and start >= end:
        raise InvalidInput(f"--since {start:%Y-%m-%d %H:%M} is not before --until {end:%Y-%m-%d %H:%M} (UTC)")
    return Period(start, end, open_end=until is None)


# -- filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What was asked for, as typed: names, aliases, emails or ids. Empty: no filter."""

    keys: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    orgs: tuple[str, ...] = ()
    end_users: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()


# filter field -> (kind in the queries, option, what it names)
FILTER_KINDS = {
    "keys": ("key", "--key", "key (alias, key_name or hash)"),
    "users": ("user", "--user", "user (email or id)"),
    "teams": ("team", "--team", "team (alias or id)"),
    "orgs": ("org", "--org", "organization (alias or id)"),
    "end_users": ("end_user", "--end-user", "end user (id or alias)"),
    "agents": ("agent", "--agent", "agent (name or id)"),
    "tags": ("tag", "--tag", "tag in the daily tag table"),
    "models": ("model", "--model", "model in the daily tables"),
    "providers": ("provider", "--provider", "provider in the daily tables"),
}


@dataclass(frozen=True)
class Resolved:
    """Filters as ids (None: no filter), plus how each typed value resolved, for the report."""

    keys: tuple[str, ...] | None = None
    users: tuple[str, ...] | None = None
    teams: tuple[str, ...] | None = None
    orgs: tuple[str, ...] | None = None
    end_users: tuple[str, ...] | None = None
    agents: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None
    providers: tuple[str, ...] | None = None
    matches: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)  # field -> value -> ids

    def params(self) -> dict[str, list[str] | None]:
        return {f.name: (list(v) if v is not None else None)
                for f in fields(self) if f.name != "matches" for v in [getattr(self, f.name)]}


def resolve(conn: psycopg.Connection, filters: Filters) -> Resolved:
    """Ids for every typed value; InvalidInput (exit 2) naming close matches when one matches nothing."""
    asked = {name: tuple(dict.fromkeys(getattr(filters, name))) for name in FILTER_KINDS}
    if not any(asked.values()):
        return Resolved()
    rows = sqlfiles.run(conn, "spend/resolve", {name: list(values) or None for name, values in asked.items()})
    found: dict[str, dict[str, list[str]]] = {name: {} for name in FILTER_KINDS}
    by_kind = {kind: name for name, (kind, _, _) in FILTER_KINDS.items()}
    for row in rows:
        ids = found[by_kind[row["kind"]]].setdefault(row["value"], [])
        if row["id"] not in ids:
            ids.append(row["id"])
    problems = []
    for name, values in asked.items():
        kind, option, noun = FILTER_KINDS[name]
        missing = [v for v in values if v not in found[name]]
        if missing:
            candidates = [r["name"] for r in sqlfiles.run(conn, "spend/candidates", {"kind": kind})]
            for value in missing:
                problems.append(f"{option} {value!r} matches no {noun}" + _suggest(value, candidates))
    if problems:
        raise InvalidInput("; ".join(problems))
    ids = {name: tuple(dict.fromkeys(i for v in values for i in found[name][v])) if values else None
           for name, values in asked.items()}
    matches = {name: {v: tuple(found[name][v]) for v in values} for name, values in asked.items() if values}
    return Resolved(**ids, matches=matches)


def _suggest(value: str, candidates: Sequence[str]) -> str:
    folded: dict[str, str] = {}
    for candidate in candidates:
        folded.setdefault(candidate.lower(), candidate)
    close = difflib.get_close_matches(value.lower(), list(folded), n=5, cutoff=0.6)
    return f" (did you mean {', '.join(repr(folded[c]) for c in close)}?)" if close else " (no close match)"


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
        return Totals(**{f.name: (float if f.name == "spend" else int)(row[f.name] or 0) for f in fields(Totals)})


@dataclass(frozen=True)
class Label:
    """How one id is shown: never a bare hash."""

    kind: str  # a DIMENSIONS value
    id: str
    label: str  # what a human reads
    name: str | None = None  # key alias, user email, team/org/end-user alias, agent name
    detail: str | None = None  # key_name for keys, user alias for users
    deleted: bool = False


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
class _Plan:
    query: str
    params: dict[str, Any]
    notes: tuple[str, ...]
    counted_days: tuple[date, date] | None
    identifiers: dict[str, str] | None = None  # the daily table a spend/daily_spend statement reads


def _plan(source: str, period: Period, by: str | None, resolved: Resolved, *, per_day: bool, top: int) -> _Plan:
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
            return _Plan("spend/logs_spend_by_tag", params, (), None)
        params["by"] = ENTITIES.get(by, by) if by else None
        return _Plan("spend/logs_spend", params, (), None)
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
    return _Plan("spend/daily_spend", params, tuple(notes), (period.first_day, period.last_day),
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
    plan = _plan(source, period, by, resolved, per_day=False, top=limit if by else ALL_GROUPS)
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
    return Report(source, period, by, tuple(groups), total, plan.counted_days, _filter_labels(conn, resolved),
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
    plan = _plan(source, period, None, without_tags, per_day=False, top=ALL_GROUPS)
    rows = sqlfiles.run(conn, plan.query, plan.params, identifiers=plan.identifiers)
    return Totals.of(rows[0]) if rows else Totals()


def series(conn: psycopg.Connection, period: Period, filters: Filters, *, by: str | None = None,
           limit: int = 5, source: str = "daily") -> Series:
    """Per UTC day: totals, or (with `by`) the `limit` biggest groups of the whole period plus "other"
    (per day, the groups that spent that day). Without `by`, days without spend are there with zeros."""
    if limit < 1:
        raise InvalidInput("--limit must be at least 1")
    resolved = resolve(conn, filters)
    plan = _plan(source, period, by, resolved, per_day=True, top=limit if by else ALL_GROUPS)
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
    return Series(source, period, by, days, tuple(rows), plan.counted_days, _filter_labels(conn, resolved),
                  tuple(notes))


# -- labels -------------------------------------------------------------------------------------

_EMPTY = {"key": "(no key)", "user": "(no user)", "team": "(no team)", "org": "(no organization)",
          "end-user": "(no end user)", "agent": "(no agent)", "model": "(no model)",
          "provider": "(no provider)", "tag": '""'}
_LABELLED = {"key": "keys", "user": "users", "team": "teams", "org": "orgs", "end-user": "end_users",
             "agent": "agents"}


def labels_for(conn: psycopg.Connection, kind: str, ids: Iterable[str]) -> dict[str, Label]:
    """A Label for each id of one dimension: keys by alias and key_name, users by email, and so on."""
    return labels_many(conn, {kind: ids})[kind]


def labels_many(conn: psycopg.Connection, wanted: Mapping[str, Iterable[str]]) -> dict[str, dict[str, Label]]:
    """Labels for several dimensions in one round trip."""
    wanted = {kind: list(dict.fromkeys(ids)) for kind, ids in wanted.items()}
    params: dict[str, list[str] | None] = dict.fromkeys(_LABELLED.values())
    for kind, ids in wanted.items():
        if kind in _LABELLED and any(ids):
            params[_LABELLED[kind]] = [i for i in ids if i]
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    if any(v for v in params.values()):
        for row in sqlfiles.run(conn, "spend/labels", params):
            found[(row["kind"].replace("_", "-"), row["id"])] = row
    return {kind: {i: _label(kind, i, found.get((kind, i))) for i in ids} for kind, ids in wanted.items()}


def _label(kind: str, id_: str, row: Mapping[str, Any] | None) -> Label:
    if id_ == "":
        return Label(kind, id_, _EMPTY[kind])
    if kind not in _LABELLED:
        return Label(kind, id_, id_)
    name = row["label"] if row else None
    detail = row["detail"] if row else None
    deleted = bool(row and row["deleted"])
    if kind == "key":
        if row is None:
            text = f"(unknown key, hash {id_[:10]}…)"
        elif name and detail:
            text = f"{name} ({detail})"
        else:
            text = name or detail or f"(key without alias or key_name, hash {id_[:10]}…)"
    elif kind == "user":
        text = name or detail or id_
    elif kind == "end-user":
        text = f"{name} ({id_})" if name else id_
    else:
        text = name or id_
    return Label(kind, id_, text + (" (deleted)" if deleted else ""), name, detail, deleted)


def _filter_labels(conn: psycopg.Connection, resolved: Resolved) -> dict[str, dict[str, tuple[Label, ...]]]:
    """For the report: each filter value with the labelled ids it matched."""
    kinds = {name: FILTER_KINDS[name][0].replace("_", "-") for name in resolved.matches}
    labels = labels_many(conn, {kinds[name]: [i for ids in values.values() for i in ids]
                                for name, values in resolved.matches.items()})
    return {FILTER_KINDS[name][1].lstrip("-"): {value: tuple(labels[kinds[name]][i] for i in ids)
                                                for value, ids in values.items()}
            for name, values in resolved.matches.items()}


# -- spend logs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogRow:
    request_id: str
    litellm_call_id: str | None
    start_time: datetime  # aware, UTC
    end_time: datetime
    request_duration_ms: int | None
    call_type: str
    key: Label
    user: Label
    team: Label
    org: Label
    end_user: Label
    agent: Label
    model: str
    model_group: str | None
    provider: str
    spend: float
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    status: str
    error_class: str | None
    error_message: str | None
    internal_call_origin: str | None
    billed_retry: bool
    tags: Any
    session_id: str | None
    cache_hit: str | None
    messages: Any = None
    response: Any = None


def logs(conn: psycopg.Connection, period: Period | None, filters: Filters, *, request_id: str | None = None,
         limit: int = 20, show_payload: bool = False) -> tuple[LogRow, ...]:
    """The newest spend-log rows matching the filters (period None: any time), or one request by id."""
    if limit < 1:
        raise InvalidInput("--limit must be at least 1")
    resolved = resolve(conn, filters)
    rows = sqlfiles.run(conn, "spend/logs_recent", {
        "request_id": request_id, "limit": limit, "show_payload": show_payload,
        "since": durations.utc_naive(period.since) if period and period.since else None,
        "until": durations.utc_naive(period.until) if period else None, **resolved.params(),
    })
    columns = {"key": "api_key", "user": "user_id", "team": "team_id", "org": "organization_id",
               "end-user": "end_user", "agent": "agent_id"}
    labels = labels_many(conn, {kind: [r[column] for r in rows] for kind, column in columns.items()})
    return tuple(
        LogRow(
            request_id=r["request_id"], litellm_call_id=r["litellm_call_id"],
            start_time=r["start_time"].replace(tzinfo=timezone.utc), end_time=r["end_time"].replace(tzinfo=timezone.utc),
            request_duration_ms=r["request_duration_ms"], call_type=r["call_type"],
            **{kind.replace("-", "_"): labels[kind][r[column]] for kind, column in columns.items()},
            model=r["model"], model_group=r["model_group"], provider=r["custom_llm_provider"], spend=r["spend"],
            prompt_tokens=r["prompt_tokens"], completion_tokens=r["completion_tokens"],
            total_tokens=r["total_tokens"], status=r["status"], error_class=r["error_class"],
            error_message=r["error_message"], internal_call_origin=r["internal_call_origin"],
            billed_retry=r["billed_retry"], tags=r["request_tags"], session_id=r["session_id"],
            cache_hit=r["cache_hit"], messages=r["messages"], response=r["response"],
        )
        for r in rows
    )


# -- export -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    rows: int
    bytes: int


def export(conn: psycopg.Connection, out: IO[bytes], period: Period, filters: Filters, *, fmt: str = "csv",
           source: str = "daily", by: str = "user", with_metadata: bool = False) -> ExportResult:
    """Stream daily rows (of the `by` entity's table) or spend logs to `out` as CSV or JSON lines, both
    rendered by the server and streamed with COPY TO STDOUT: constant memory at any size. Spend logs
    carry what the daily tables read from metadata (cache tokens, status, counted_request); the
    metadata JSON itself only `with_metadata` (rendering it is most of the cost). If writing to `out`
    fails, the COPY is left unfinished: close the connection."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    if source == "daily" and by not in ENTITIES:
        raise InvalidInput(f"--by must name a daily table ({', '.join(ENTITIES)}) for --source daily, not {by!r}")
    resolved = resolve(conn, filters)
    if source == "logs":
        params: dict[str, Any] = {
            "since": durations.utc_naive(period.since) if period.since else datetime(1, 1, 1),
            "until": durations.utc_naive(period.until),
            "with_metadata": with_metadata, **resolved.params(),
        }
        identifiers = None
        name = "spend/export_logs"
    else:
        plan = _plan("daily", period, by, resolved, per_day=False, top=ALL_GROUPS)
        params = {"daily_table": ENTITIES[by], **{k: plan.params[k] for k in ("first_day", "last_day", "keys", "models",
                                                                      "providers", "entities")}}
        identifiers = plan.identifiers
        name = "spend/export_daily"
    written = 0
    with sqlfiles.copy_out(conn, name, params, fmt, identifiers=identifiers) as copy:
        for chunk in copy:
            out.write(chunk)
            written += len(chunk)
        rows = max(copy.cursor.rowcount, 0)  # set from COPY's command tag once the data has ended
    return ExportResult(rows, written)
