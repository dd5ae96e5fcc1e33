"""`dbctl daily`: check LiteLLM's daily spend tables against the spend logs, and repair them.

The library (`litellm_dbctl.daily` and the database layer under it) is imported inside the command
bodies: `dbctl daily --help` does not load it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Optional

import typer

from litellm_dbctl.cli import common
from litellm_dbctl.common.errors import InvalidInput

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.daily.drift import Unapplied
    from litellm_dbctl.daily.repair import TableRepair
    from litellm_dbctl.daily.retention import ConfigFile, Horizon

app = typer.Typer(help="Check and rebuild LiteLLM's daily spend tables from the spend logs.", no_args_is_help=True)

MAX_SETTLE = 366 * 86400.0  # daily reconcile --settle: day + settle must stay a date; a year late is not settling
SINCE = typer.Option("7d", "--since", metavar="WHEN", help=common.SINCE_HELP + " Whole UTC days are checked.")
UNTIL = typer.Option("yesterday", "--until", metavar="WHEN", help=common.UNTIL_HELP)
RENAMED = common.renamed({"-t": "--table"})  # -t is budget status --type
TABLE = typer.Option(None, "--table", metavar="NAME",
                     help="Only these tables (repeat or comma-separate): user, team, org, end_user, agent, tag.")
WORK_MEM = typer.Option("128MB", "--work-mem", metavar="SIZE",
                        help="PostgreSQL work_mem for the recomputation (per transaction).")
PROXY_CONFIG = typer.Option(None, "--proxy-config", metavar="PATH",
                            help="The proxy's config.yaml: days LiteLLM's cleanup job has pruned by its "
                                 "general_settings maximum_spend_logs_retention_period (every table) and "
                                 "maximum_daily_tag_spend_retention_period (tag) are left alone and reported "
                                 "pruned. Without it, the copy in LiteLLM_Config is used if there is one.")

SUMMARY_COLUMNS = ["date", "table", "state", "missing", "extra", "differ", "legacy", "spend_delta"]
DETAIL_COLUMNS = ["date", "table", "status", "entity_id", "api_key", "model", "custom_llm_provider",
                  "mcp_namespaced_tool_name", "endpoint", "requests", "stored_rows", "delta"]
# Key columns a table shows only when some row has a value, and leaves out first on a narrow terminal.
SPARSE_DETAIL = ["mcp_namespaced_tool_name", "endpoint", "custom_llm_provider"]
REPAIR_COLUMNS = ["date", "table", "inserted", "updated", "merged", "normalized", "pruned", "orphans_kept",
                  "spend_delta"]


def _range(since: str, until: str) -> tuple[date, date]:
    """The UTC days the period of --since/--until touches (common.periods: one grammar everywhere)."""
    from litellm_dbctl.common import periods
    from litellm_dbctl.daily import tables

    period = periods.period(since, until)
    today = tables.utc_today()
    if period.since is None:
        raise InvalidInput("--since all: daily needs a first day (e.g. --since 2026-01-01)")
    for option, day in (("--since", period.first_day), ("--until", period.last_day)):
        if day > today:  # no spend is logged for it yet; and a walk to year 9999 would never end
            raise InvalidInput(f"{option}: {day} is after today ({today}, UTC)")
    return period.first_day, period.last_day


def _proxy_config(path: Optional[str]) -> ConfigFile | None:
    """The --proxy-config file, read before connecting (a bad file is exit 2 with nothing done)."""
    from litellm_dbctl.daily import retention

    return retention.read_config(path) if path is not None else None


def _horizon(ctx: typer.Context, conn: psycopg.Connection, config: ConfigFile | None) -> tuple[Horizon, dict[str, Any]]:
    """Where LiteLLM's retention cuts now, and the settings for JSON; their problems on stderr."""
    from litellm_dbctl.common import clock
    from litellm_dbctl.daily import retention

    settings = retention.load(conn, config)
    now = clock.now()
    for text in (*settings.warnings, *settings.problems(now)):
        common.info(ctx, f"dbctl: warning: {text}")
    horizon = settings.horizon(now)
    return horizon, settings.describe(horizon)


def _pruned_line(pairs: list[tuple[str, str]], tables: tuple[str, ...]) -> str:
    """`tag 2026-01-01..2026-02-14; user 2026-01-01..2026-01-09`: what LiteLLM pruned, per table."""
    spans = {name: sorted(day for day, t in pairs if t == name) for name in tables}
    return "; ".join(f"{name} {days[0]}..{days[-1]}" for name, days in spans.items() if days)


def _delta_text(row: dict[str, Any]) -> str:
    """`api_requests +3, spend -0.5`: the columns that differ, recomputed minus stored."""
    return ", ".join(f"{name} {row['delta'][name]:+g}" for name in row["differences"])


@app.command("check", cls=RENAMED)
def check(
    ctx: typer.Context,
    since: str = SINCE,
    until: str = UNTIL,
    table: Optional[list[str]] = TABLE,
    details: bool = typer.Option(False, "--details", help="Also list every key that differs."),
    work_mem: str = WORK_MEM,
    proxy_config: Optional[str] = PROXY_CONFIG,
) -> None:
    """Recompute the daily tables from LiteLLM_SpendLogs by LiteLLM's rules and compare them with the
    stored rows, per UTC day and table: rows missing, rows extra (no log derives them), rows whose
    counters differ, legacy NULL-key rows to merge, and the spend delta. Read-only; one statement
    per day. Tables LiteLLM's retention has pruned on a day (--proxy-config, else LiteLLM_Config)
    are reported `pruned`, not checked. Exit 0 when they match (or are pruned), 3 on drift.

    Example: dbctl daily check --since 2026-01-01 --until 2026-01-31 --table team --details
    """
    from litellm_dbctl.daily import drift
    from litellm_dbctl.daily.tables import resolve_tables, validate_work_mem
    from litellm_dbctl.db import release

    first, last = _range(since, until)
    tables = resolve_tables(table or [])
    validate_work_mem(work_mem)
    config = _proxy_config(proxy_config)
    with common.connect(ctx, read_only=True) as conn:
        release.require_known(conn, common.target(ctx), "daily check")  # LiteLLM's counting rules, per release
        horizon, described = _horizon(ctx, conn, config)
        result = drift.check(conn, first, last, tables, details=details, work_mem=work_mem, horizon=horizon)
    s = common.settings(ctx)
    summary = [{"date": d.date, "table": d.table, "state": d.state, "missing": d.missing, "extra": d.extra,
                "differ": d.differ, "legacy": d.legacy, "spend_delta": d.spend_delta} for d in result.days]
    rows = [{
        "date": k.date, "table": k.table, "status": k.status, "entity_id": k.entity_id, "api_key": k.api_key,
        "model": k.model, "custom_llm_provider": k.custom_llm_provider,
        "mcp_namespaced_tool_name": k.mcp_namespaced_tool_name, "endpoint": k.endpoint, "requests": k.requests,
        "stored_rows": k.stored_rows, "legacy_rows": k.legacy_rows, "spend_recomputed": k.spend_recomputed,
        "spend_stored": k.spend_stored, "differences": list(k.differences), "delta": asdict(k.delta),
    } for k in result.keys]
    totals = result.totals()
    payload: dict[str, Any] = {"since": first, "until": last, "tables": list(tables), "drift": result.drift,
                               "totals": totals, "retention": described, "days": summary,
                               "unapplied": _unapplied(result.unapplied)}
    if details:
        payload["rows"] = rows
    shown = summary if s.verbose else [r for r in summary if _drifted(r)]
    common.emit(ctx, shown, SUMMARY_COLUMNS, json_payload=payload, report=True)
    if details and s.output != "json" and rows:
        columns = [c for c in DETAIL_COLUMNS if s.output == "csv" or c not in SPARSE_DETAIL or any(r[c] for r in rows)]
        common.emit(ctx, [{**r, "delta": _delta_text(r)} for r in rows], columns,
                    optional=[*SPARSE_DETAIL, "stored_rows"], report=True)
    common.line(ctx, _check_line(result.drift, totals, first, last))
    if totals["day_tables_pruned"]:
        pruned = [(d.date, d.table) for d in result.days if d.pruned]
        common.info(ctx, f"{totals['day_tables_pruned']} day-table(s) pruned by LiteLLM's retention, not checked: "
                         + _pruned_line(pruned, tables))
    _say_unapplied(ctx, result.unapplied)
    if result.drift:
        common.name_found(ctx, _check_line(True, totals, first, last),
                          [f"{r['date']} {r['table']}" for r in summary if _drifted(r)])
    common.exit_with(3 if result.drift else 0)


def _unapplied(days: Sequence[Unapplied]) -> dict[str, Any]:
    """JSON: the requests left out because their outbox delivery is not applied yet."""
    from litellm_dbctl.daily.drift import unapplied_totals

    return {**unapplied_totals(days), "days": [asdict(u) for u in days]}


def _say_unapplied(ctx: typer.Context, days: Sequence[Unapplied]) -> None:
    """On a LiteLLM 1.110 outbox database: how many requests were left out, and why."""
    if not days:
        return
    from litellm_dbctl.daily.drift import unapplied_totals

    totals = unapplied_totals(days)
    count = totals["pending"] + totals["parked"]
    common.info(ctx, f"left out {count} request(s) whose spend-log delivery the proxy has not applied yet "
                     f"({totals['pending']} pending, {totals['parked']} parked"
                     f"{'; dbctl accounting retry --parked hands those back' if totals['parked'] else ''})")


def _drifted(row: dict[str, Any]) -> bool:
    return bool(row["missing"] or row["extra"] or row["differ"] or row["legacy"])


def _check_line(drift: bool, totals: dict[str, Any], first: Any, last: Any) -> str:
    span = f"{first}..{last}"
    if not drift:
        checked = totals["day_tables"] - totals["day_tables_pruned"]
        return f"daily tables match the spend logs ({span}, {checked} day-tables checked)"
    return (f"drift in {totals['day_tables_with_drift']} of {totals['day_tables']} day-tables ({span}): "
            f"{totals['missing']} missing, {totals['extra']} extra, {totals['differ']} differ, "
            f"{totals['legacy']} legacy; spend delta {totals['spend_delta']:+.6f}")


@app.command("reconcile", cls=RENAMED)
def reconcile(
    ctx: typer.Context,
    since: str = SINCE,
    until: str = UNTIL,
    table: Optional[list[str]] = TABLE,
    settle: float = common.span_option("1h", "--settle", maximum=MAX_SETTLE,
                                       help="A day is closed this long after the UTC midnight that ends it."),
    include_today: bool = typer.Option(False, "--include-today",
                                       help="Also repair days that are not closed yet (today, and yesterday "
                                            "within --settle)."),
    prune_orphans: bool = typer.Option(False, "--prune-orphans",
                                       help="Delete stored rows no spend log derives (kept by default: logs "
                                            "may have been pruned by retention)."),
    dry_run: bool = common.DRY_RUN,
    lock_timeout: float = common.LOCK_TIMEOUT,
    work_mem: str = WORK_MEM,
    proxy_config: Optional[str] = PROXY_CONFIG,
) -> None:
    """Repair the daily tables from LiteLLM_SpendLogs for closed days: insert missing rows, correct
    counters by increments (a late proxy flush is kept), merge legacy NULL-key rows into their ''
    row, and with --prune-orphans delete rows no log derives. One transaction per day; savings
    columns, model_group and PTU flat-cost rows are kept as stored. Tables LiteLLM's retention has
    pruned on a day (--proxy-config, else LiteLLM_Config) are left alone. Exit 0 done, 3 when
    --dry-run finds work, 5 when another reconcile holds the lock.

    Example: dbctl daily reconcile --since 2026-01-01 --until 2026-01-31 --dry-run
    """
    from litellm_dbctl.daily import repair
    from litellm_dbctl.daily.tables import resolve_tables, validate_work_mem

    first, last = _range(since, until)
    tables = resolve_tables(table or [])
    validate_work_mem(work_mem)
    config = _proxy_config(proxy_config)
    with common.connect(ctx, read_only=True) as conn:
        horizon, described = _horizon(ctx, conn, config)

    def report(day: date, repairs: list[TableRepair]) -> None:
        changed = [r for r in repairs if r.changed]
        if changed:
            common.info(ctx, f"{day}: " + "; ".join(_repair_text(r) for r in changed)
                        + (" (dry run, rolled back)" if dry_run else ""))
        else:
            common.info(ctx, f"{day}: nothing to repair")

    result = repair.reconcile(common.target(ctx, direct=True), first, last, tables, settle=timedelta(seconds=settle),
                              include_today=include_today, prune_orphans=prune_orphans, dry_run=dry_run,
                              lock_timeout=lock_timeout, work_mem=work_mem, horizon=horizon, progress=report)
    s = common.settings(ctx)
    repairs = [{
        "date": r.date, "table": r.table, "inserted": r.inserted, "updated": r.updated, "merged": r.merged,
        "normalized": r.normalized, "pruned": r.pruned, "orphans_kept": r.orphans_kept,
        "changed_meanwhile": r.changed_meanwhile, "spend_delta": r.spend_delta,
    } for r in result.repairs]
    totals = result.totals()
    payload = {"dry_run": dry_run, "since": first, "until": last, "tables": list(tables),
               "prune_orphans": prune_orphans, "changed": result.changed, "totals": totals,
               "open_days": list(result.open_days), "retention": described,
               "retention_pruned": [{"date": day, "table": name} for day, name in result.retention_pruned],
               "days": repairs, "unapplied": _unapplied(result.unapplied)}
    shown = repairs if s.verbose else [r for r in repairs if any(r[c] for c in REPAIR_COLUMNS[2:-1])]
    common.emit(ctx, shown, REPAIR_COLUMNS, json_payload=payload, report=True)
    if result.open_days:
        common.info(ctx, f"skipped {len(result.open_days)} open day(s) {result.open_days[0]}..{result.open_days[-1]} "
                         "(not older than --settle; --include-today repairs them)")
    if result.retention_pruned:
        common.info(ctx, f"left {len(result.retention_pruned)} day-table(s) LiteLLM's retention pruned alone: "
                         + _pruned_line([(d.isoformat(), t) for d, t in result.retention_pruned], tables))
    _say_unapplied(ctx, result.unapplied)
    verb = "would change" if dry_run else "changed"
    common.line(ctx, f"{verb} {totals['days_changed']} of {totals['days']} day(s): {totals['inserted']} inserted, "
                     f"{totals['updated']} updated, {totals['merged']} merged, {totals['normalized']} normalized, "
                     f"{totals['pruned']} pruned; {totals['orphans_kept']} orphan key(s) kept; "
                     f"spend {totals['spend_delta']:+.6f}")
    if dry_run and result.changed:
        common.name_found(ctx, f"would change {totals['days_changed']} of {totals['days']} day(s)",
                          [f"{r['date']} {r['table']}" for r in repairs if any(r[c] for c in REPAIR_COLUMNS[2:-1])])
    common.exit_with(3 if dry_run and result.changed else 0)


def _repair_text(repair: TableRepair) -> str:
    parts = [f"{n} {name}" for name, n in (("inserted", repair.inserted), ("updated", repair.updated),
                                            ("merged", repair.merged), ("normalized", repair.normalized),
                                            ("pruned", repair.pruned)) if n]
    return f"{repair.table} " + ", ".join(parts)
