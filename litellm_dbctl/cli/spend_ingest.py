"""`dbctl spend ingest`: registered by cli/spend.py (`app.command("ingest")(spend_ingest.ingest)`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO, Optional

import typer

from litellm_dbctl.cli import common, progress

COLUMNS = ["records_read", "inserted", "already_present", "skipped_bad", "spend_added", "daily_rows", "deliveries"]


def ingest(
    ctx: typer.Context,
    path: str = typer.Argument(..., metavar="PATH|-",
                               help="A JSONL file, a directory of .json/.jsonl files (a bucket logger's), or - "
                                    "for stdin."),
    fmt: str = typer.Option("standard", "--format", metavar="standard|spendlogs",
                            help="standard: LiteLLM's StandardLoggingPayload; spendlogs: rows of "
                                 "`spend export --source logs --format jsonl`."),
    batch_size: int = typer.Option(5000, "--batch-size", metavar="N", help="Records per transaction."),
    skip_bad: bool = typer.Option(False, "--skip-bad",
                                  help="Write the good records and report the bad ones (default: a bad record "
                                       "writes nothing, exit 2)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", metavar="N",
                                       help="Processes that read and check the records (default: one per core, "
                                            "at most 4, for an input over 32 MB or stdin; else 1, in-process)."),
    dry_run: bool = common.DRY_RUN,
    lock_timeout: float = common.LOCK_TIMEOUT,
) -> None:
    """Write spend logs from outside the proxy (the S3/GCS bucket loggers' files, a custom logger's
    JSON lines, another database's export) as the proxy writes its own: the LiteLLM_SpendLogs row
    LiteLLM's get_logging_payload builds, and for each request not already there (by request_id) the
    key, user, team, org, end-user and tag spend and the six daily tables, by the rules `daily check`
    uses; on LiteLLM 1.110's outbox a pending delivery its worker applies instead. Every record is
    checked first: a bad one is reported as file:line: field: message and nothing is written (exit 2),
    unless --skip-bad. One transaction per --batch-size records: a killed run is resumed by running it
    again, and a re-run writes nothing. Exit 3 when --dry-run would write.

    Example: dbctl spend ingest ./s3-export/ --dry-run
    """
    from litellm_dbctl.common.errors import InvalidInput
    from litellm_dbctl.spend import ingest as library
    from litellm_dbctl.spend import spool

    bars = {"read": progress.bar(ctx, "bytes read"), "written": progress.bar(ctx, "records written")}
    started = time.monotonic()

    def show(done: int, total: int, phase: object) -> None:
        bar = bars[str(phase)]
        if bar:
            bar(done, total)

    files: list[Path | IO[bytes]]
    if path == "-":
        files = [sys.stdin.buffer]
    else:
        given = Path(path)
        if not given.exists():
            raise InvalidInput(f"PATH: no such file or directory: {path}")
        files = list(spool.input_files(given))
        if not files:
            raise InvalidInput(f"PATH: no .json or .jsonl files in {path}")
    try:
        result = library.ingest(common.target(ctx), files, fmt=fmt, batch_size=batch_size, skip_bad=skip_bad,
                                dry_run=dry_run, lock_timeout=lock_timeout, jobs=jobs, progress=show)
    finally:
        for bar in bars.values():
            if bar:
                bar.close()
    summary = result.summary()
    for bad in result.bad:
        common.info(ctx, f"skipped {bad}")
    common.emit(ctx, [{k: summary[k] for k in COLUMNS}], COLUMNS, json_payload=summary, report=True)
    verb = "would insert" if dry_run else "inserted"
    common.line(ctx, f"{verb} {result.inserted:,} of {result.read:,} records ({result.present:,} already present, "
                     f"{result.skipped_bad:,} bad skipped), spend {result.spend:+.6f}"
                     + (f", {result.deliveries:,} outbox deliveries" if result.outbox else "")
                     + f" in {time.monotonic() - started:.1f} s")
    if dry_run and result.inserted:
        common.name_found(ctx, f"would insert {result.inserted} spend logs", [])
        common.exit_with(3)
