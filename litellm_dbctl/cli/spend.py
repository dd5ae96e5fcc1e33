"""`dbctl spend`: who spent what — summaries, top spenders, daily series, recent logs, exports.

Typer only: options, rendering and exit codes. The answers come from `litellm_dbctl.spend`, imported
inside the command bodies so that `dbctl spend --help` does not load the library.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Optional

import typer

from litellm_dbctl.cli import common, spend_buffer, spend_ingest, tables
from litellm_dbctl.common import checks, periods

if TYPE_CHECKING:
    from datetime import datetime, tzinfo

    from litellm_dbctl.spend.logrows import LogRow
    from litellm_dbctl.spend.names import Filters, Label
    from litellm_dbctl.spend.report import Series, Totals

app = typer.Typer(help="Who spent what: summaries, top spenders, daily series, logs, exports.", no_args_is_help=True)

SINCE_HELP = common.SINCE_HELP
UNTIL = typer.Option(None, "--until", metavar="WHEN", help=common.UNTIL_HELP + " Default: now.")
KEY = typer.Option(None, "--key", metavar="ALIAS|KEY_NAME", help="Only this key (alias, key_name like "
                   "'sk-...ab12', hash or its first 8+ characters, or the raw key); repeat for several.")
USER = typer.Option(None, "--user", metavar="EMAIL|ID", help="Only this user (user_id, SSO id or email); repeatable.")
TEAM = typer.Option(None, "--team", metavar="ALIAS|ID", help="Only this team; repeatable.")
ORG = typer.Option(None, "--org", metavar="ALIAS|ID", help="Only this organization; repeatable.")
TAG = typer.Option(None, "--tag", metavar="TAG", help="Only requests carrying this tag; repeatable.")
MODEL = typer.Option(None, "--model", metavar="MODEL", help="Only this model; repeatable.")
PROVIDER = typer.Option(None, "--provider", metavar="PROVIDER", help="Only this provider (custom_llm_provider); "
                        "repeatable.")
END_USER = typer.Option(None, "--end-user", metavar="ID|ALIAS", help="Only this end user; repeatable.")
AGENT = typer.Option(None, "--agent", metavar="NAME|ID", help="Only this agent; repeatable.")
SOURCE = typer.Option("daily", "--source", metavar="daily|logs",
                      help="daily: LiteLLM's daily tables (fast, whole UTC days); logs: LiteLLM_SpendLogs "
                      "(every request: exact periods, any filter combination, a cross-check).")
TZ = typer.Option("UTC", "--timezone", metavar="ZONE", help="Show times in this IANA time zone. Days stay "
                  "LiteLLM's UTC days.")
RENAMED = common.renamed({"--tz": "--timezone"})
BY = typer.Option(..., "--by", callback=common.kind, metavar="|".join(("key", "user", "team", "org", "tag", "model", "provider",
                                                   "end-user", "agent")), help="What to group by.")

METRICS = ("spend", "prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
           "requests", "successful_requests", "failed_requests")
NOUNS = {"key": "keys", "user": "users", "team": "teams", "org": "organizations", "tag": "tags", "model": "models",
         "provider": "providers", "end-user": "end users", "agent": "agents"}
NOUN = {"key": "key", "user": "user", "team": "team", "org": "organization", "tag": "tag", "model": "model",
        "provider": "provider", "end-user": "end user", "agent": "agent"}


def _filters(key: Optional[list[str]], user: Optional[list[str]], team: Optional[list[str]],
             org: Optional[list[str]], tag: Optional[list[str]], model: Optional[list[str]],
             provider: Optional[list[str]], end_user: Optional[list[str]], agent: Optional[list[str]]) -> Filters:
    from litellm_dbctl.spend.names import Filters

    return Filters(keys=tuple(key or ()), users=tuple(user or ()), teams=tuple(team or ()), orgs=tuple(org or ()),
                   tags=tuple(tag or ()), models=tuple(model or ()), providers=tuple(provider or ()),
                   end_users=tuple(end_user or ()), agents=tuple(agent or ()))


# --key, --user, ... on every spend command, handed to it as one `filters: Filters`.
with_filters = common.option_group("filters", {
    name: (Optional[list[str]], option) for name, option in (
        ("key", KEY), ("user", USER), ("team", TEAM), ("org", ORG), ("tag", TAG), ("model", MODEL),
        ("provider", PROVIDER), ("end_user", END_USER), ("agent", AGENT))
}, _filters)


def _zone(ctx: typer.Context, name: str) -> tzinfo:
    """The display zone; says once that days stay UTC days when it is not UTC."""
    from litellm_dbctl.common import durations

    checks.flag("--timezone", name, checks.zone)
    zone = durations.zone(name)
    if name.upper() != "UTC":
        common.info(ctx, f"dbctl: note: days are LiteLLM's UTC days; --timezone {name} only changes how times are shown")
    return zone


def _when(moment: datetime | None, zone: tzinfo) -> str | None:
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment else None


def _period_json(period: periods.Period, counted: Any, zone: tzinfo) -> dict[str, Any]:
    return {"since": _when(period.since, zone), "until": _when(period.until, zone), "timezone": str(zone),
            "days": {"first": counted[0].isoformat(), "last": counted[1].isoformat()} if counted else None}


def _period_text(period: periods.Period, counted: Any, zone: tzinfo) -> str:
    def show(moment: datetime) -> str:
        return tables.when(moment.astimezone(zone))

    named = "" if str(zone).upper() == "UTC" else f" ({zone})"
    text = (f"{show(period.since)} .. {show(period.until)}{named}" if period.since
            else f"everything up to {show(period.until)}{named}")
    if counted:
        text += (f" (daily tables: UTC days {counted[0].isoformat()} .. {counted[1].isoformat()})" if period.since
                 else f" (daily tables: every UTC day up to {counted[1].isoformat()})")
    return text


def _totals_json(totals: Totals) -> dict[str, Any]:
    return {**{m: getattr(totals, m) for m in METRICS}, "failure_rate": totals.failure_rate}


def _label_json(label: Label) -> dict[str, Any]:
    return {"id": label.id, "label": label.label, "name": label.name, "detail": label.detail,
            "deleted": label.deleted}


def _filters_json(filters: Any) -> dict[str, Any]:
    return {option: {value: [_label_json(label) for label in labels] for value, labels in values.items()}
            for option, values in filters.items()}


def _notes(ctx: typer.Context, notes: Any) -> None:
    for note in notes:
        common.info(ctx, f"dbctl: note: {note}")


def _number(value: Any, table: bool) -> Any:
    """Tables get floats: the shared renderer right-aligns them with thousands separators."""
    return float(value) if table and value is not None else value


def _percent(value: float | None, table: bool) -> Any:
    """A share (0..1): shown in percent with its `%` in a table, as the share in JSON and CSV."""
    if value is None:
        return None
    return tables.Percent(value * 100) if table else value


@app.command("summary", cls=RENAMED)
@with_filters
def summary(
    ctx: typer.Context,
    since: Optional[str] = typer.Option(None, "--since", metavar="WHEN", help=SINCE_HELP + " Default: 30d."),
    until: Optional[str] = UNTIL,
    source: str = SOURCE, tz: str = TZ,
    *,
    filters: Filters,
) -> None:
    """Spend, tokens, requests, failures and the failure rate for a period and filters.

    Requests are caller requests (internal calls and billed retries are not counted), as in LiteLLM's
    daily tables; a failure is a request whose metadata status is 'failure'.

    Example: dbctl spend summary --since 7d --team payments --model gpt-4o
    """
    from litellm_dbctl.spend import report

    zone = _zone(ctx, tz)
    period = periods.period(since, until)
    with common.connect(ctx, read_only=True) as conn:
        result = report.report(conn, period, filters, source=source)
    _notes(ctx, result.notes)
    totals = result.total or report.Totals()
    payload = {"source": result.source, "period": _period_json(period, result.counted_days, zone),
               "filters": _filters_json(result.filters), "totals": _totals_json(totals), "notes": list(result.notes)}
    output = common.settings(ctx).output
    if output == "table":
        rows = [{"field": "period", "value": _period_text(period, result.counted_days, zone)},
                {"field": "source", "value": "daily tables" if source == "daily" else "LiteLLM_SpendLogs"},
                *({"field": f"--{option}", "value": ", ".join(f"{value} = {', '.join(lb.label for lb in labels)}"
                                                              for value, labels in values.items())}
                  for option, values in result.filters.items()),
                {"field": "spend (USD)", "value": f"{totals.spend:,.4f}"},
                {"field": "requests", "value": f"{totals.requests:,}"},
                {"field": "failed", "value": f"{totals.failed_requests:,}"
                 + (f" ({tables.cell(_percent(totals.failure_rate, True))})" if totals.requests else "")},
                {"field": "prompt tokens", "value": f"{totals.prompt_tokens:,}"},
                {"field": "completion tokens", "value": f"{totals.completion_tokens:,}"},
                {"field": "cache read tokens", "value": f"{totals.cache_read_input_tokens:,}"},
                {"field": "cache write tokens", "value": f"{totals.cache_creation_input_tokens:,}"}]
        common.emit(ctx, rows, ["field", "value"], prose=["value"])
    else:
        common.emit(ctx, [{**_totals_json(totals), "source": result.source}], [*METRICS, "failure_rate", "source"],
                    json_payload=payload)


@app.command("top", cls=RENAMED)
@with_filters
def top(
    ctx: typer.Context,
    by: str = BY,
    limit: int = typer.Option(10, "--limit", "-n", min=1, help="How many groups to list before 'other'."),
    since: Optional[str] = typer.Option(None, "--since", metavar="WHEN", help=SINCE_HELP + " Default: 30d."),
    until: Optional[str] = UNTIL,
    source: str = SOURCE, tz: str = TZ,
    *,
    filters: Filters,
) -> None:
    """The biggest spenders by key, user, team, org, tag, model, provider, end user or agent, with an
    'other' row and the total.

    Keys show as alias and key_name, users by email, teams and orgs by alias. By tag, one request
    counts once for each tag it carries, so tag rows overlap and do not add up to the total.

    Example: dbctl spend top --by team --since 30d --limit 5
    """
    from litellm_dbctl.spend import report

    zone = _zone(ctx, tz)
    period = periods.period(since, until)
    with common.connect(ctx, read_only=True) as conn:
        result = report.report(conn, period, filters, by=by, limit=limit, source=source)
    _notes(ctx, result.notes)
    total = result.total
    share_of = total.spend if total and total.spend else None
    named = [g for g in result.groups if not g.is_other]
    other = next((g for g in result.groups if g.is_other), None)
    payload = {
        "source": result.source, "period": _period_json(period, result.counted_days, zone),
        "filters": _filters_json(result.filters), "by": by, "limit": limit,
        "rows": [{"rank": rank, **_label_json(g.label), **_totals_json(g.totals),
                  "share": g.totals.spend / share_of if share_of else None}
                 for rank, g in enumerate(named, 1) if g.label],
        "other": {"groups": other.other_groups, **_totals_json(other.totals),
                  "share": other.totals.spend / share_of if share_of else None} if other else None,
        "total": _totals_json(total) if total is not None else None, "notes": list(result.notes),
    }
    table = common.settings(ctx).output == "table"
    rows = []
    for rank, group in enumerate(named, 1):
        assert group.label is not None
        rows.append({"rank": rank, by: group.label.label, "id": group.label.id, **_row(group.totals, share_of, table)})
    if other:
        rows.append({"rank": None, by: f"other ({other.other_groups:,} {(NOUN if other.other_groups == 1 else NOUNS)[by]})",
                     "id": None, **_row(other.totals, share_of, table)})
    if total is not None:
        rows.append({"rank": None, by: "all requests" if by == "tag" else "total", "id": None,
                     **_row(total, share_of, table)})
    columns = ["rank", by, "spend", "share", "requests", "failed_requests", "failure_rate", "prompt_tokens",
               "completion_tokens", "cache_read_input_tokens"]
    if table:
        common.line(ctx, f"top {NOUNS[by]} by spend, {_period_text(period, result.counted_days, zone)}")
        if not named:
            common.line(ctx, "no spend in this period")
            return
        headers = {"failed_requests": "failed", "failure_rate": "fail rate", "prompt_tokens": "prompt tok",
                   "completion_tokens": "completion tok", "cache_read_input_tokens": "cache read tok",
                   "spend": "spend (USD)"}
        common.emit(ctx, rows, columns, headers=headers)
    else:
        common.emit(ctx, rows, ["rank", by, "id", "spend", "share", "requests", "successful_requests",
                                "failed_requests", "failure_rate", "prompt_tokens", "completion_tokens",
                                "cache_read_input_tokens", "cache_creation_input_tokens"], json_payload=payload)


def _row(totals: Totals, share_of: float | None, table: bool) -> dict[str, Any]:
    return {
        "spend": _number(totals.spend, table),
        "share": _percent(totals.spend / share_of if share_of else None, table),
        "requests": _number(totals.requests, table), "failed_requests": _number(totals.failed_requests, table),
        "failure_rate": _percent(totals.failure_rate, table),
        "successful_requests": _number(totals.successful_requests, table),
        "prompt_tokens": _number(totals.prompt_tokens, table),
        "completion_tokens": _number(totals.completion_tokens, table),
        "cache_read_input_tokens": _number(totals.cache_read_input_tokens, table),
        "cache_creation_input_tokens": _number(totals.cache_creation_input_tokens, table),
    }


BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: float, largest: float, width: int = 30) -> str:
    """A horizontal bar of unicode eighth blocks, `width` cells for `largest`."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / largest * width * 8))
    return "█" * (eighths // 8) + (BLOCKS[eighths % 8] if eighths % 8 else "")


@app.command("daily", cls=RENAMED)
@with_filters
def daily(
    ctx: typer.Context,
    by: Optional[str] = typer.Option(None, "--by", callback=common.kind,
                                     metavar="key|user|team|org|tag|model|provider|end-user|agent",
                                     help="Split each day by this, keeping the --limit biggest (of the period) "
                                     "plus 'other'."),
    limit: int = typer.Option(5, "--limit", "-n", min=1, help="With --by: how many groups to keep."),
    since: Optional[str] = typer.Option(None, "--since", metavar="WHEN", help=SINCE_HELP + " Default: 30d."),
    until: Optional[str] = UNTIL,
    source: str = SOURCE, tz: str = TZ,
    *,
    filters: Filters,
) -> None:
    """Spend per UTC day, optionally split by one dimension; a bar chart on a terminal.

    Example: dbctl spend daily --since 14d --by model --limit 3
    """
    from litellm_dbctl.spend import report

    zone = _zone(ctx, tz)
    period = periods.period(since, until)
    with common.connect(ctx, read_only=True) as conn:
        result = report.series(conn, period, filters, by=by, limit=limit, source=source)
    _notes(ctx, result.notes)
    payload: dict[str, Any] = {
        "source": result.source, "period": _period_json(period, result.counted_days, zone),
        "filters": _filters_json(result.filters), "by": by, "limit": limit if by else None,
        "days": [d.isoformat() for d in result.days],
        "rows": [{"date": r.day.isoformat(),
                  **({"id": r.group.label.id, "label": r.group.label.label} if r.group.label
                     else {"id": None, "label": None}),
                  "other_groups": r.group.other_groups, **_totals_json(r.group.totals)} for r in result.rows],
        "notes": list(result.notes),
    }
    settings = common.settings(ctx)
    if settings.output != "table":
        rows = [{"date": r["date"], "id": r["id"], "label": r["label"], "other_groups": r["other_groups"],
                 **{m: r[m] for m in (*METRICS, "failure_rate")}} for r in payload["rows"]]
        common.emit(ctx, rows, ["date", "id", "label", "other_groups", *METRICS, "failure_rate"], json_payload=payload)
        return
    common.line(ctx, f"spend per UTC day, {_period_text(period, result.counted_days, zone)}")
    if not any(r.group.totals.spend or r.group.totals.requests for r in result.rows):
        common.line(ctx, "no spend in this period")
        return
    common.emit(ctx, *_daily_table(result, chart=tables.terminal_width() is not None))


def _daily_table(result: Series, *, chart: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per day: the total, one column per group (with --by), and a bar on a terminal."""
    columns: list[str] = []
    for row in result.rows:
        name = row.group.label.label if row.group.label else "other" if row.group.is_other else None
        if name and name not in columns:
            columns.append(name)
    if "other" in columns:
        columns.remove("other")
        columns.append("other")
    per_day: dict[Any, dict[str, Any]] = {d: {"date": d.isoformat(), "spend": 0.0, "requests": 0} for d in result.days}
    for row in result.rows:
        cells = per_day.setdefault(row.day, {"date": row.day.isoformat(), "spend": 0.0, "requests": 0})
        cells["spend"] += row.group.totals.spend
        cells["requests"] += row.group.totals.requests
        name = row.group.label.label if row.group.label else "other" if row.group.is_other else None
        if name:
            cells[name] = cells.get(name, 0.0) + row.group.totals.spend
    largest = max((c["spend"] for c in per_day.values()), default=0.0)
    rows = []
    for day in sorted(per_day):
        cells = per_day[day]
        shown = {"date": cells["date"], "spend": round(cells["spend"], 2), "requests": float(cells["requests"])}
        shown.update({name: round(cells.get(name, 0.0), 2) for name in columns})
        if chart:
            shown["chart"] = bar(cells["spend"], largest)
        rows.append(shown)
    return rows, ["date", "spend", "requests", *columns, *(["chart"] if chart else [])]


@app.command("logs", cls=RENAMED)
@with_filters
def logs(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="How many rows, newest first."),
    request_id: Optional[str] = typer.Option(None, "--request-id", metavar="ID",
                                             help="The one request with this request_id or litellm_call_id (any time)."),
    show_payload: bool = typer.Option(False, "--show-payload", help="Include the stored messages and response."),
    since: Optional[str] = typer.Option(None, "--since", metavar="WHEN", help=SINCE_HELP + " Default: 7d."),
    until: Optional[str] = UNTIL,
    tz: str = TZ,
    *,
    filters: Filters,
) -> None:
    """Recent rows of LiteLLM_SpendLogs, for debugging one key or one request.

    Example: dbctl spend logs --key payments-rag-prod-3 --limit 5
    """
    from litellm_dbctl.common.errors import InvalidInput
    from litellm_dbctl.spend import logrows

    zone = _zone(ctx, tz)
    period = None if request_id and not since and not until else periods.period(since, until, default_since="7d")
    with common.connect(ctx, read_only=True) as conn:
        rows = logrows.recent(conn, period, filters, request_id=request_id, limit=limit, show_payload=show_payload)
    if request_id and not rows:  # a look-up of one named request: not finding it is not an empty success
        raise InvalidInput(f"--request-id: no spend log with request_id or litellm_call_id {request_id!r}"
                           + (" matching these filters" if period or any(vars(filters).values()) else ""))
    records = [_log_json(r, zone, show_payload) for r in rows]
    payload = {"period": _period_json(period, None, zone) if period else None, "rows": records}
    if common.settings(ctx).output != "table":
        flat = [{name: value for key, value in r.items()
                 for name, value in (((f"{key}_id", value["id"]), (f"{key}_label", value["label"]))
                                     if isinstance(value, dict) and "label" in value else ((key, value),))}
                for r in records]
        common.emit(ctx, flat, list(flat[0]) if flat else ["request_id"], json_payload=payload)
        return
    if not rows:
        common.line(ctx, "no spend logs match")
        return
    table_rows = [{
        "time": r.start_time.astimezone(zone), "request_id": r.request_id,
        "key": r.key.label, "user": r.user.label, "team": r.team.label, "model": r.model, "call_type": r.call_type,
        "status": r.status + (f" ({r.error_class})" if r.error_class else "")
        + (" internal" if r.internal_call_origin else "") + (" retry" if r.billed_retry else ""),
        "spend": r.spend, "tokens": f"{r.prompt_tokens}+{r.completion_tokens}",
        "ms": r.request_duration_ms, "tags": r.tags,
        **({"messages": r.messages, "response": r.response} if show_payload else {}),
    } for r in rows]
    common.emit(ctx, table_rows, list(table_rows[0]), optional=["tags", "call_type", "team", "ms"])


def _log_json(row: LogRow, zone: tzinfo, show_payload: bool) -> dict[str, Any]:
    record = asdict(row)
    record["start_time"] = _when(row.start_time, zone)
    record["end_time"] = _when(row.end_time, zone)
    for kind in ("key", "user", "team", "org", "end_user", "agent"):
        label = getattr(row, kind)
        record[kind] = {"id": label.id, "label": label.label, "name": label.name, "detail": label.detail}
    if not show_payload:
        record.pop("messages")
        record.pop("response")
    return record


@app.command("export")
@with_filters
def export(
    ctx: typer.Context,
    fmt: str = typer.Option("csv", "--format", metavar="csv|jsonl", help="CSV with a header, or JSON lines."),
    to: Optional[str] = typer.Option(None, "--to", metavar="FILE", help="Write here (atomically) instead of stdout."),
    source: str = typer.Option("daily", "--source", metavar="daily|logs",
                               help="daily: the rows of one daily table (--by); logs: LiteLLM_SpendLogs rows."),
    by: str = typer.Option("user", "--by", metavar="user|team|org|end-user|agent|tag", callback=common.kind,
                           help="With --source daily: which daily table."),
    with_metadata: bool = typer.Option(False, "--with-metadata",
                                       help="With --source logs: include the metadata JSON (several times slower)."),
    since: Optional[str] = typer.Option(None, "--since", metavar="WHEN", help=SINCE_HELP + " Default: 30d."),
    until: Optional[str] = UNTIL,
    *,
    filters: Filters,
) -> None:
    """Stream daily rows or spend logs of a period as CSV or JSON lines, in constant memory.

    Times are UTC. Spend-log rows carry cache tokens, status and counted_request as LiteLLM's daily
    tables read them, so they add up to `spend summary --source logs`; the metadata JSON only with
    --with-metadata; messages and responses never.

    Example: dbctl spend export --source logs --since 2026-11-01 --format jsonl --to november.jsonl
    """
    from litellm_dbctl.spend.export import stream

    period = periods.period(since, until)
    if to is not None:
        common.check_destination(to)
    started = time.monotonic()
    with common.connect(ctx, read_only=True) as conn:
        if to is None:
            try:
                result = stream(conn, sys.stdout.buffer, period, filters, fmt=fmt, source=source, by=by,
                                with_metadata=with_metadata)
                sys.stdout.buffer.flush()
            except BrokenPipeError:
                # The reader stopped (`| head`): end quietly, dropping the unfinished COPY with the connection.
                conn.close()
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return
        else:
            partial = f"{to}.partial"
            try:
                with open(partial, "wb") as out:
                    result = stream(conn, out, period, filters, fmt=fmt, source=source, by=by,
                                    with_metadata=with_metadata)
                os.replace(partial, to)
            finally:
                if os.path.exists(partial):
                    os.unlink(partial)
    seconds = time.monotonic() - started
    common.info(ctx, f"dbctl: exported {result.rows:,} rows ({result.bytes / 1e6:,.1f} MB) in {seconds:.1f} s"
                + (f" to {to}" if to else ""))

app.command("buffer")(spend_buffer.buffer)
app.command("ingest")(spend_ingest.ingest)
