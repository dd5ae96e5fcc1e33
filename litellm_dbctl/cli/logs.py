"""`dbctl logs`: keep LiteLLM_SpendLogs from outgrowing the database: size, archive, prune, scrub,
partition.

The library (`litellm_dbctl.logs`) is imported inside the command bodies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from litellm_dbctl.cli import common
from litellm_dbctl.common.errors import InvalidInput

app = typer.Typer(help="The spend-log table's lifecycle: size, archive, prune, scrub, partition.",
                  no_args_is_help=True)


# -- logs size and logs archive (issue 20, items 1-2) ---------------------------------------------

SIZE_COLUMNS = ["table", "rows", "heap", "toast", "indexes", "total"]
ARCHIVE_COLUMNS = ["day", "status", "rows", "spend", "file", "bytes"]


@app.command("size")
def size(
    ctx: typer.Context,
    exact: bool = typer.Option(False, "--exact", help="Count rows instead of estimating them from the planner's "
                                                      "statistics (scans the spend logs)."),
    limit: Optional[str] = typer.Option(None, "--max-size", metavar="SIZE",
                                        help="Estimate the days until the database reaches this size "
                                             "(e.g. 500GB; units of 1024, as pg_size_pretty)."),
) -> None:
    """How big LiteLLM_SpendLogs is and how fast it grows: rows and bytes (heap, TOAST, indexes) of it
    and of the tables LiteLLM's cleanup job also prunes (tool index, daily tag spend, health checks,
    auto-router rollups), rows per month, growth per day over the last 30 days, the oldest row, the
    database's size on disk and, with --max-size, the days until that size at the current growth. Rows
    are the planner's estimates (reltuples and the startTime histogram; a block sample when the table
    was never analyzed) unless --exact. A partitioned table is summed over its partitions, which are
    listed. Read-only. The filesystem's free space is not visible from SQL.

    Example: dbctl logs size --max-size 500GB
    """
    from litellm_dbctl.common import sizes
    from litellm_dbctl.logs import size as sizing

    limit_bytes = sizes.parse(limit, option="--max-size") if limit is not None else None
    with common.connect(ctx, read_only=True) as conn:
        result = sizing.report(conn, exact=exact, limit_bytes=limit_bytes)
    rows = [{"table": t.table, "rows": None if t.rows is None else round(t.rows), "heap": sizes.pretty(t.heap_bytes),
             "toast": sizes.pretty(t.toast_bytes), "indexes": sizes.pretty(t.index_bytes),
             "total": sizes.pretty(t.total_bytes)} for t in result.tables]
    common.emit(ctx, rows, SIZE_COLUMNS, json_payload=_size_payload(result), whole=["table"])
    s = common.settings(ctx)
    if s.output == "table":
        months = [{"month": b.start.strftime("%Y-%m"), "rows": round(b.rows)} for b in result.months]
        common.emit(ctx, months, ["month", "rows"], title=f"LiteLLM_SpendLogs per month ({result.method})")
        if result.partitions:
            common.emit(ctx, [{"partition": p.name, "bounds": p.bounds, "rows": None if p.rows is None else round(p.rows),
                               "total": sizes.pretty(p.total_bytes)} for p in result.partitions],
                        ["partition", "bounds", "rows", "total"], whole=["partition"], prose=["bounds"])
    oldest = f"oldest {result.oldest:%Y-%m-%d %H:%M:%S} UTC" if result.oldest else "no spend logs"
    growth = (f"{result.rows_per_day:,.0f} rows/day ({sizes.pretty(result.bytes_per_day)}/day) over the last "
              f"{sizing.GROWTH_DAYS} days" if result.rows_per_day is not None else "no growth measured yet")
    common.line(ctx, f"{oldest}; {growth}; database {result.database} {sizes.pretty(result.database_bytes)}")
    if limit_bytes is not None:
        common.line(ctx, f"--max-size {sizes.pretty(limit_bytes)}: " + (
            "not reached at the current growth" if result.days_until_limit is None
            else "already reached" if result.days_until_limit == 0
            else f"reached in about {result.days_until_limit:,.0f} days"))
    for note in result.notes:
        common.info(ctx, f"note: {note}")


def _size_payload(result: Any) -> dict[str, Any]:
    return {
        "method": result.method,
        "tables": [{"table": t.table, "partitioned": t.partitioned, "partitions": t.partitions, "rows": t.rows,
                    "rows_exact": t.rows_exact, "heap_bytes": t.heap_bytes, "toast_bytes": t.toast_bytes,
                    "index_bytes": t.index_bytes, "total_bytes": t.total_bytes} for t in result.tables],
        "partitions": [{"partition": p.name, "bounds": p.bounds, "rows": p.rows, "total_bytes": p.total_bytes}
                       for p in result.partitions],
        "months": [{"month": b.start.strftime("%Y-%m"), "rows": b.rows} for b in result.months],
        "days": [{"date": b.start, "rows": b.rows} for b in result.days],
        "oldest": result.oldest, "newest": result.newest,
        "rows_per_day": result.rows_per_day, "bytes_per_day": result.bytes_per_day,
        "database": {"name": result.database, "bytes": result.database_bytes, "free_bytes": None},
        "limit_bytes": result.limit_bytes, "days_until_limit": result.days_until_limit,
        "notes": list(result.notes),
    }


@app.command("archive")
def archive(
    ctx: typer.Context,
    until: str = typer.Option(..., "--until", metavar="WHEN", help=common.UNTIL_HELP + " Only whole UTC days that "
                              "have ended are archived."),
    to: Path = typer.Option(..., "--to", metavar="DIR", help="The archive directory (created if missing); its "
                            "manifest.json records each day."),
    fmt: str = typer.Option("parquet", "--format", metavar="FORMAT",
                            help="parquet (needs pip install 'litellm-dbctl[parquet]'), jsonl.gz or csv.gz."),
    since: Optional[str] = typer.Option(None, "--since", metavar="WHEN",
                                        help=common.SINCE_HELP + " Default: the oldest spend log."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the days that would be archived; write nothing "
                                 "(exit 3 when there are some)."),
    lock_timeout: float = common.LOCK_TIMEOUT,
) -> None:
    """Write LiteLLM_SpendLogs out, one file per UTC day (spendlogs-YYYY-MM-DD.parquet, .jsonl.gz or
    .csv.gz) in DIR, each written under a temporary name, fsynced and renamed, and recorded in
    DIR/manifest.json with its rows, total spend, SHA-256, format and dbctl's version. Re-running
    skips the days already in the manifest with their file, so a killed run resumes. Memory stays
    flat at any size (COPY streamed; Parquet a row group at a time, with the table's column types).
    Reads in READ ONLY snapshots under the `logs` advisory lock; deletes nothing (`logs prune
    --archive-to DIR` does, for the days the manifest verifies).

    Example: dbctl logs archive --until 2026-09-30 --to /backups/spendlogs
    """
    from litellm_dbctl.common import checks, periods
    from litellm_dbctl.logs import archive as archiving

    checks.flag("--to", str(to), checks.text)
    if fmt not in archiving.FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(archiving.FORMATS)}, not {fmt!r}")
    archiving.require_pyarrow(fmt)
    period = periods.period(since or "all", until)

    def progress(day: Any) -> None:
        verb = {"archived": "archived", "skipped": "already archived", "pending": "would archive"}[day.status]
        common.info(ctx, f"{day.day}: {verb} {day.rows} rows ({day.file})")

    result = archiving.archive(common.target(ctx), to, until=period.until, since=period.since, fmt=fmt,
                               dry_run=dry_run, lock_timeout=lock_timeout, progress=progress)
    rows = [{"day": d.day, "status": d.status, "rows": d.rows, "spend": round(d.spend, 6), "file": d.file,
             "bytes": d.bytes} for d in result.days]
    payload = {"dry_run": dry_run, "directory": str(result.directory), "format": fmt, "since": result.since,
               "until": result.until, "days": rows, "removed_partials": list(result.removed_partials)}
    common.emit(ctx, [r for r in rows if r["status"] != "skipped"], ARCHIVE_COLUMNS, json_payload=payload,
                report=True, whole=["file"])
    done = result.archived
    verb = "would archive" if dry_run else "archived"
    common.line(ctx, f"{verb} {len(done)} day(s), {sum(d.rows for d in done)} rows to {result.directory}; "
                     f"{len(result.days) - len(done)} already there")
    common.exit_with(3 if dry_run and done else 0)
