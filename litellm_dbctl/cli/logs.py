"""`dbctl logs`: keep LiteLLM_SpendLogs from outgrowing the database: size, archive, prune, scrub,
partition.

The library (`litellm_dbctl.logs`) is imported inside the command bodies.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import TYPE_CHECKING, Any, Optional

import typer

from litellm_dbctl.cli import common
from litellm_dbctl.common.errors import InvalidInput

if TYPE_CHECKING:
    from datetime import datetime

    from litellm_dbctl.logs.batches import Pace

app = typer.Typer(help="The spend-log table's lifecycle: size, archive, prune, scrub, partition.",
                  no_args_is_help=True)


# -- prune and scrub (issue 20, items 3 and 4) ---------------------------------------------------

MAX_AGE = 100 * 366 * 86400.0  # --older-than: a century covers any LiteLLM deployment's logs
MAX_BATCH = 1_000_000
MAX_PAUSE = 3600.0
PRUNE_COLUMNS = ["day", "action", "rows", "tool_rows", "partition", "bytes"]
OLDER_THAN_HELP = ("Whole UTC days that ended this long ago or more (e.g. 90d, 12w): the cutoff is the UTC "
                   "midnight at or before now minus DURATION.")
UNTIL_DAY_HELP = ("The last UTC day to go (YYYY-MM-DD, yesterday, 30d): everything before the following "
                  "midnight; an instant is rounded down to its day's midnight.")


class _Bar:
    """A one-line progress bar on a TTY stderr: rows done of rows counted, and the current day."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, done: int, total: int, day: Optional[date] = None) -> None:
        width = 30
        filled = int(width * min(done, total) / max(total, 1))
        where = f" {day}" if day is not None else ""
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} rows{where}   ")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 80 + "\r")
            sys.stderr.flush()


def _bar(ctx: typer.Context) -> Optional[_Bar]:
    s = common.settings(ctx)
    return _Bar() if sys.stderr.isatty() and not s.quiet and s.output == "table" else None


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
PAUSE = common.span_option("10ms", "--pause", maximum=MAX_PAUSE,
                           help="Pause between batches, so a proxy's writes get the server between them.")
VACUUM = typer.Option(False, "--vacuum", help="Run a plain VACUUM (ANALYZE) afterwards (never VACUUM FULL).")


@app.command("prune")
def prune(
    ctx: typer.Context,
    older_than: Optional[float] = OLDER_THAN,
    until: Optional[str] = UNTIL_DAY,
    force: bool = typer.Option(False, "--force", help="Prune days whose daily tables do not match their logs."),
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

    Example: dbctl logs prune --older-than 90d --max-rate 50000 --vacuum
    """
    from litellm_dbctl.logs import prune as pruning

    cutoff = _cutoff(older_than, until)
    pace = _pace(batch_size, max_rate, pause)
    bar = _bar(ctx)
    try:
        result = pruning.prune(common.target(ctx, direct=True), cutoff, force=force, dry_run=dry_run, pace=pace,
                               lock_timeout=lock_timeout, progress=bar, vacuum=vacuum)
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
        "seconds": round(result.seconds, 3), "days": rows}
    common.emit(ctx, rows, PRUNE_COLUMNS, json_payload=payload, report=True, optional=["partition"])
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
    bar = _bar(ctx)
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
