"""`dbctl logs`: keep LiteLLM_SpendLogs from outgrowing the database: size, archive, prune, scrub,
partition.

The library (`litellm_dbctl.logs`) is imported inside the command bodies.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from litellm_dbctl.cli import common, progress
from litellm_dbctl.common.errors import InvalidInput

if TYPE_CHECKING:
    from datetime import datetime

    from litellm_dbctl.logs.batches import Pace

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


FORMAT_HELP = "parquet (needs pip install 'litellm-dbctl[parquet]'), jsonl.gz or csv.gz."


MAX_ARCHIVE_JOBS = 32


@app.command("archive")
def archive(
    ctx: typer.Context,
    until: str = typer.Option(..., "--until", metavar="WHEN", help=common.UNTIL_HELP + " Only whole UTC days that "
                              "have ended are archived."),
    to: Path = typer.Option(..., "--to", metavar="DIR", help="The archive directory (created if missing); its "
                            "manifest.json records each day."),
    fmt: str = typer.Option("parquet", "--format", metavar="FORMAT", help=FORMAT_HELP),
    since: Optional[str] = typer.Option(None, "--since", metavar="WHEN",
                                        help=common.SINCE_HELP + " Default: the oldest spend log."),
    jobs: int = typer.Option(1, "--jobs", "-j", metavar="N", min=1, max=MAX_ARCHIVE_JOBS,
                             help="Days written at once, each on its own connection (default 1): the server "
                                  "renders a day on one core, so N days use up to N of its cores."),
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

    Example: dbctl logs archive --until 2026-09-30 --to /backups/spendlogs --jobs 2
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
                               dry_run=dry_run, lock_timeout=lock_timeout, jobs=jobs, progress=progress)
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
# -- prune and scrub (issue 20, items 3 and 4) ---------------------------------------------------

MAX_AGE = 100 * 366 * 86400.0  # --older-than: a century covers any LiteLLM deployment's logs
MAX_BATCH = 1_000_000
MAX_PAUSE = 3600.0
PRUNE_COLUMNS = ["day", "action", "rows", "tool_rows", "partition", "bytes"]
OLDER_THAN_HELP = ("Whole UTC days that ended this long ago or more (e.g. 90d, 12w): the cutoff is the UTC "
                   "midnight at or before now minus DURATION.")
UNTIL_DAY_HELP = (common.UNTIL_HELP + " Whole UTC days only: the day given is the last to go, and an instant "
                  "is rounded down to its day's midnight.")


def _cutoff(older_than: Optional[float], until: Optional[str]) -> datetime:
    """The UTC midnight to prune or scrub before, from exactly one of --older-than / --until."""
    from litellm_dbctl.common import clock, periods
    from litellm_dbctl.logs.batches import cutoff_for

    if older_than is not None and until is not None:
        raise InvalidInput("--older-than and --until: give one of them, not both")
    now = clock.now()
    moment = periods.parse_moment(until, now, option="--until", until=True) if until is not None else None
    cutoff = cutoff_for(older_than=older_than, until=moment, now=now)
    if cutoff > now:
        raise InvalidInput(f"--until: {cutoff:%Y-%m-%d} is after today (UTC): days still being logged are not pruned")
    return cutoff


def _pace(batch_size: int, max_rate: Optional[float], pause: float) -> Pace:
    from litellm_dbctl.common import checks
    from litellm_dbctl.logs.batches import Pace

    rate = checks.flag("--max-rate", max_rate, checks.number)
    if rate is not None and rate <= 0:
        raise InvalidInput("--max-rate: must be more than 0 rows/s")
    return Pace(batch_size=batch_size, max_rate=rate, pause=pause)


def _size(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


OLDER_THAN = common.span_option(None, "--older-than", maximum=MAX_AGE, help=OLDER_THAN_HELP)
UNTIL_DAY = typer.Option(None, "--until", metavar="DAY", help=UNTIL_DAY_HELP)
BATCH_SIZE = typer.Option(5000, "--batch-size", metavar="N", min=1, max=MAX_BATCH,
                          help="Rows per batch, each its own short transaction (halved while batches run slow).")
MAX_RATE = typer.Option(None, "--max-rate", metavar="ROWS/S", help="At most this many rows per second.")
PAUSE = common.span_option("2ms", "--pause", maximum=MAX_PAUSE,
                           help="Pause between batches, so a proxy's writes get the server between them.")
VACUUM = typer.Option(False, "--vacuum", help="Run a plain VACUUM (ANALYZE) afterwards (never VACUUM FULL).")


@app.command("prune")
def prune(
    ctx: typer.Context,
    older_than: Optional[float] = OLDER_THAN,
    until: Optional[str] = UNTIL_DAY,
    force: bool = typer.Option(False, "--force", help="Prune days whose daily tables do not match their logs."),
    archive_to: Optional[Path] = typer.Option(None, "--archive-to", metavar="DIR",
                                              help="Archive each day to DIR first (as `dbctl logs archive --to DIR`)"
                                                   " and delete only days its manifest verifies."),
    fmt: str = typer.Option("parquet", "--format", metavar="FORMAT", help="With --archive-to: " + FORMAT_HELP),
    batch_size: int = BATCH_SIZE,
    max_rate: Optional[float] = MAX_RATE,
    pause: float = PAUSE,
    vacuum: bool = VACUUM,
    dry_run: bool = typer.Option(False, "--dry-run", help="Count and check what would go; change nothing "
                                 "(exit 3 when something would)."),
    lock_timeout: float = common.LOCK_TIMEOUT,
) -> None:
    """Delete the spend logs of whole UTC days before a cutoff, with the LiteLLM_SpendLogToolIndex
    rows LiteLLM's cleanup deletes with them, oldest day first: in batches of short transactions
    beside a live proxy (resumable after a kill: the next run continues), or on a partitioned table
    by detaching and dropping each partition wholly before the cutoff. Each day's daily tables are
    checked against its logs first (as `dbctl daily check` does): a day that does not match is
    refused, and nothing is deleted, unless --force (after the prune nothing can rebuild them).
    Reports rows and bytes freed (deleted rows' bytes are an estimate, reused after VACUUM). Exit 0
    done, 3 when --dry-run finds work, 4 when days are refused, 5 when another logs run holds the lock.

    With --archive-to DIR each day is first archived as `dbctl logs archive` writes it (days the
    manifest already verifies are not written again), and deleted only when its file's SHA-256
    matches the manifest and the file holds every row the day has; a day that fails that is skipped.

    Example: dbctl logs prune --older-than 90d --archive-to /backups/spendlogs --vacuum
    """
    from litellm_dbctl.logs import prune as pruning

    cutoff = _cutoff(older_than, until)
    allow_day = None
    if archive_to is not None:
        from litellm_dbctl.common import checks
        from litellm_dbctl.logs import archive as archiving

        checks.flag("--archive-to", str(archive_to), checks.text)
        if not dry_run:
            allow_day = archiving.before_prune(archive_to, fmt)
        else:
            archiving.require_pyarrow(fmt)
    pace = _pace(batch_size, max_rate, pause)
    bar = progress.bar(ctx, "rows")
    try:
        result = pruning.prune(common.target(ctx, direct=True), cutoff, force=force, dry_run=dry_run, pace=pace,
                               lock_timeout=lock_timeout, progress=bar, vacuum=vacuum, allow_day=allow_day)
    finally:
        if bar is not None:
            bar.close()
    rows: list[dict[str, Any]] = [{"day": d.day, "action": d.action, "rows": d.rows, "tool_rows": d.tool_rows,
                                   "partition": d.partition, "bytes": d.bytes} for d in result.days]
    refused = [{"day": r.day, "tables": list(r.tables), "spend_delta": r.spend_delta} for r in result.refused]
    payload: dict[str, Any] = {
        "dry_run": dry_run, "cutoff": result.cutoff, "partitioned": result.partitioned,
        "rows": result.rows, "tool_index_rows": result.tool_rows, "bytes": result.bytes,
        "partitions": [{"name": p.name, "action": p.action, "rows": p.rows, "bytes": p.bytes}
                       for p in result.partitions],
        "refused": refused, "resumed": list(result.resumed), "vacuumed": result.vacuumed,
        "seconds": round(result.seconds, 3), "days": rows,
        "archive_to": str(archive_to) if archive_to is not None else None}
    common.emit(ctx, rows, PRUNE_COLUMNS, json_payload=payload, report=True, optional=["partition"])
    unarchived = [str(d.day) for d in result.days if d.action == pruning.SKIPPED]
    if unarchived and allow_day is not None:
        from litellm_dbctl.common.errors import IntegrityError

        common.name_found(ctx, f"kept {len(unarchived)} day(s) whose archive could not be verified", unarchived)
        raise IntegrityError(f"logs prune: kept {len(unarchived)} day(s) whose archive in {archive_to} could not be "
                             "verified: " + ", ".join(unarchived[:common.NAMED])
                             + (" ..." if len(unarchived) > common.NAMED else ""),
                             hint="run the prune again (a day whose rows changed while it was archived is archived "
                                  "anew); check the directory's disk and files")
    if result.refused:
        days = [f"{r.day} ({', '.join(r.tables)})" for r in result.refused]
        first, last = result.refused[0].day, result.refused[-1].day
        from litellm_dbctl.common.errors import IntegrityError

        common.name_found(ctx, f"refused {len(days)} day(s) whose daily tables do not match their logs", days)
        raise IntegrityError(
            f"logs prune: refused {len(days)} day(s) whose daily tables do not match their logs: "
            + ", ".join(days[:common.NAMED]) + (" ..." if len(days) > common.NAMED else "") + "; nothing deleted",
            hint=f"repair them first: dbctl daily reconcile --since {first} --until {last}; or prune them "
                 "anyway with --force")
    verb = "would remove" if dry_run else "removed"
    dropped = [p for p in result.partitions if p.action in (pruning.DROPPED, pruning.WOULD_DROP)]
    common.line(ctx, f"{verb} {result.rows:,} spend logs and {result.tool_rows:,} tool-index rows from "
                     f"{len(result.days)} day(s) before {result.cutoff:%Y-%m-%d}"
                     + (f" ({len(dropped)} partition(s) dropped)" if dropped else "")
                     + f"; ~{_size(result.bytes)} freed" + (" (dry run)" if dry_run else ""))
    if result.resumed:
        common.info(ctx, f"finished {len(result.resumed)} day(s) an interrupted run had begun: "
                         f"{result.resumed[0]}..{result.resumed[-1]}")
    if not dry_run and not vacuum and any(d.action == pruning.DELETED and d.rows for d in result.days):
        common.info(ctx, "the deleted rows' space is reused once vacuumed: autovacuum will, or run "
                         "`dbctl logs prune --vacuum` (a plain VACUUM (ANALYZE), never FULL)")
    if dry_run and result.work:
        common.name_found(ctx, f"would remove {result.rows} spend logs", [str(d.day) for d in result.days])
    common.exit_with(3 if dry_run and result.work else 0)


@app.command("scrub")
def scrub(
    ctx: typer.Context,
    older_than: Optional[float] = OLDER_THAN,
    until: Optional[str] = UNTIL_DAY,
    batch_size: int = BATCH_SIZE,
    max_rate: Optional[float] = MAX_RATE,
    pause: float = PAUSE,
    vacuum: bool = VACUUM,
    dry_run: bool = typer.Option(False, "--dry-run", help="Count the spend logs that would be scrubbed; change "
                                 "nothing (exit 3 when there are some)."),
    lock_timeout: float = common.LOCK_TIMEOUT,
) -> None:
    """Blank the prompts and responses of the spend logs of whole UTC days before a cutoff: messages,
    response and proxy_server_request become '{}' (their default), and the request and response
    bodies LiteLLM copies into metadata go (the request body, vector-store results, MCP tool
    arguments and results, LLM-judge evaluations; guardrail entries keep only what LiteLLM keeps with
    store_prompts_in_spend_logs off). Spend, tokens, ids, times, tags and the fields the daily
    tables count stay. Batched and resumable like prune; a scrubbed row is skipped by later runs.
    Exit 0 done, 3 when --dry-run finds rows, 5 when another logs run holds the lock.

    Example: dbctl logs scrub --older-than 30d
    """
    from litellm_dbctl.logs import scrub as scrubbing

    cutoff = _cutoff(older_than, until)
    pace = _pace(batch_size, max_rate, pause)
    bar = progress.bar(ctx, "rows")
    try:
        result = scrubbing.scrub(common.target(ctx, direct=True), cutoff, dry_run=dry_run, pace=pace,
                                 lock_timeout=lock_timeout, progress=bar, vacuum=vacuum)
    finally:
        if bar is not None:
            bar.close()
    payload = {"dry_run": dry_run, "cutoff": result.cutoff, "rows": result.rows, "scanned": result.scanned,
               "batches": result.batches, "vacuumed": result.vacuumed, "seconds": round(result.seconds, 3)}
    common.emit(ctx, [payload], ["cutoff", "rows", "scanned"], json_payload=payload, report=True)
    verb = "would scrub" if dry_run else "scrubbed"
    common.line(ctx, f"{verb} {result.rows:,} of {result.scanned:,} spend logs before {result.cutoff:%Y-%m-%d}"
                     + (" (dry run)" if dry_run else ""))
    if dry_run and result.rows:
        common.name_found(ctx, f"would scrub {result.rows} spend logs before {result.cutoff:%Y-%m-%d}", [])
    common.exit_with(3 if dry_run and result.rows else 0)
# -- dbctl logs partition ----------------------------------------------------------------------

PARTITION_INTERVALS = ("day", "week", "month")
MAX_PREMAKE = 3660  # ten years of days


@app.command("partition", cls=common.renamed({"--batch-rows": "--batch-size"}))
def partition(
    ctx: typer.Context,
    interval: str = typer.Option("day", "--interval", metavar="day|week|month",
                                 help="Partition period: as LiteLLM's SPEND_LOG_PARTITION_INTERVAL (default day)."),
    premake: int = typer.Option(7, "--premake", metavar="N",
                                help="Create the current period's partition and N more ahead (LiteLLM's "
                                     "SPEND_LOG_PARTITION_PRECREATE_AHEAD is 7)."),
    batch_size: int = typer.Option(50_000, "--batch-size", metavar="N", min=1, max=MAX_BATCH,
                                   help="Rows copied per batch, each its own short transaction."),
    max_rate: Optional[float] = MAX_RATE,
    pause: float = PAUSE,
    keep_old: bool = typer.Option(False, "--keep-old",
                                  help="Keep the plain table as LiteLLM_SpendLogs_old after the swap (dropped "
                                       "by default)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the steps and partitions a run would do and "
                                 "make; change nothing (exit 3 when there is work)."),
    lock_timeout: float = common.LOCK_TIMEOUT,
) -> None:
    """Convert a plain LiteLLM_SpendLogs into the range-partitioned layout LiteLLM's partition manager
    maintains (general_settings.use_spend_logs_partitioning): partitions LiteLLM_SpendLogs_pYYYYMMDD by
    --interval on "startTime", a DEFAULT partition, primary key (request_id, startTime), the same
    columns, indexes and grants. Online: triggers mirror the proxy's writes while old rows are copied in
    batches (paced by --pause and --max-rate, as prune's), then a short swap (500 ms lock_timeout,
    retried up to --lock-timeout) renames the tables.
    A killed run resumes where it stopped. On a partitioned table it only premakes partitions. Exit 0
    done or already partitioned, 3 when --dry-run finds work, 4 when something blocks the conversion,
    5 when another `dbctl logs` run holds the lock or the swap cannot get its lock.

    Example: dbctl logs partition --interval day --premake 7 --dry-run
    """
    from litellm_dbctl.logs import partition as converter
    from litellm_dbctl.logs.partition_plan import STEP_TEXT

    if interval not in PARTITION_INTERVALS:
        raise InvalidInput(f"--interval: {interval!r} is not one of day, week, month")
    if not 0 <= premake <= MAX_PREMAKE:
        raise InvalidInput(f"--premake: {premake} is not between 0 and {MAX_PREMAKE}")
    pace = _pace(batch_size, max_rate, pause)
    options = converter.Options(interval=interval, premake=premake, batch_size=pace.batch_size, pause=pace.pause,
                                max_rate=pace.max_rate, keep_old=keep_old, dry_run=dry_run,
                                lock_timeout=lock_timeout)
    shown = {"at": 0}

    def progress(copied: int, estimate: int) -> None:
        if copied - shown["at"] >= max(estimate // 20, 1):
            shown["at"] = copied
            common.info(ctx, f"copied {copied} of ~{estimate} rows")

    result = converter.partition(common.target(ctx, direct=True), options, progress=progress)
    payload: dict[str, Any] = common.to_jsonable(result)
    payload["work"] = result.work
    steps = [{"step": step, "what": STEP_TEXT[step]} for step in result.steps]
    common.emit(ctx, steps, ["step", "what"], json_payload=payload, report=True, prose=["what"])
    made = len(result.partitions_created)
    if dry_run:
        common.line(ctx, f"LiteLLM_SpendLogs: {len(result.steps)} step(s) to do, {made} partition(s) to create"
                         + ("" if "copy" not in result.steps else
                            f", ~{result.rows_estimate} rows to copy" if result.rows_estimate is not None else
                            ", rows to copy not estimated (the table was never analyzed)"))
    else:
        common.line(ctx, f"LiteLLM_SpendLogs: {result.outcome} by {result.interval}; {made} partition(s) created, "
                         f"{result.rows_copied} rows copied in {result.batches} batch(es)"
                         + (f", {result.swap_attempts} swap attempt(s)" if result.swap_attempts else "")
                         + (f"; the plain table is kept as {result.old_table}" if result.old_table else ""))
    if result.partitions_skipped:
        common.info(ctx, f"skipped {len(result.partitions_skipped)} partition(s) an existing one overlaps: "
                         + ", ".join(result.partitions_skipped[:5]))
    common.exit_with(3 if dry_run and result.work else 0)
