"""`dbctl logs`: keep LiteLLM_SpendLogs from outgrowing the database: size, archive, prune, scrub,
partition.

The library (`litellm_dbctl.logs`) is imported inside the command bodies.
"""

from __future__ import annotations

from typing import Any

import typer

from litellm_dbctl.cli import common
from litellm_dbctl.common.errors import InvalidInput

app = typer.Typer(help="The spend-log table's lifecycle: size, archive, prune, scrub, partition.",
                  no_args_is_help=True)


@app.callback()
def _group() -> None:
    """A group even while it has one command (Typer runs a lone command as the group itself)."""


# -- dbctl logs partition ----------------------------------------------------------------------

PARTITION_INTERVALS = ("day", "week", "month")
MAX_PREMAKE = 3660  # ten years of days
MAX_BATCH_ROWS = 10_000_000


@app.command("partition")
def partition(
    ctx: typer.Context,
    interval: str = typer.Option("day", "--interval", metavar="day|week|month",
                                 help="Partition period: as LiteLLM's SPEND_LOG_PARTITION_INTERVAL (default day)."),
    premake: int = typer.Option(7, "--premake", metavar="N",
                                help="Create the current period's partition and N more ahead (LiteLLM's "
                                     "SPEND_LOG_PARTITION_PRECREATE_AHEAD is 7)."),
    batch_rows: int = typer.Option(50_000, "--batch-rows", metavar="N",
                                   help="Rows copied per batch, each its own short transaction."),
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
    batches, then a short swap (500 ms lock_timeout, retried up to --lock-timeout) renames the tables.
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
    if not 1 <= batch_rows <= MAX_BATCH_ROWS:
        raise InvalidInput(f"--batch-rows: {batch_rows} is not between 1 and {MAX_BATCH_ROWS}")
    options = converter.Options(interval=interval, premake=premake, batch_rows=batch_rows, keep_old=keep_old,
                                dry_run=dry_run, lock_timeout=lock_timeout)
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
                         + (f", ~{result.rows_estimate} rows to copy" if result.rows_estimate is not None
                            and "copy" in result.steps else ""))
    else:
        common.line(ctx, f"LiteLLM_SpendLogs: {result.outcome} by {result.interval}; {made} partition(s) created, "
                         f"{result.rows_copied} rows copied in {result.batches} batch(es)"
                         + (f", {result.swap_attempts} swap attempt(s)" if result.swap_attempts else "")
                         + (f"; the plain table is kept as {result.old_table}" if result.old_table else ""))
    if result.partitions_skipped:
        common.info(ctx, f"skipped {len(result.partitions_skipped)} partition(s) an existing one overlaps: "
                         + ", ".join(result.partitions_skipped[:5]))
    common.exit_with(3 if dry_run and result.work else 0)
