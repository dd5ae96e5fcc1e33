"""`dbctl spend ingest`: spend logs from outside the proxy (LiteLLM's StandardLoggingPayload files, or
rows of `spend export --format jsonl`) written as the proxy writes its own.

First one pass over the input (spend.spool): each record read, checked, built and encoded once into a
temporary spool of COPY chunks, writing nothing: one bad record is reported as `file:line: field:
message` and nothing is written (or, with `skip_bad`, it is left out). Then each chunk is one
transaction: its bytes COPYed into dbctl's staging table, inserted into LiteLLM_SpendLogs where not
there yet (by request_id), and only for those rows the spend added to the counters and the daily
tables (or, on LiteLLM 1.110's outbox, the pending deliveries its worker applies). A run killed midway
has committed whole chunks; running it again skips what they inserted, so nothing counts twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from litellm_dbctl.common import pausepoints
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.daily.tables import TABLE_NAMES
from litellm_dbctl.db import database, sqlfiles
from litellm_dbctl.spend import payloads
from litellm_dbctl.spend.spool import MAX_JOBS, Bad, spooled

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

LOCK_FAMILY = "spend-ingest"
DEFAULT_BATCH = 5000
MAX_BATCH = 100_000


@dataclass(frozen=True)
class IngestResult:
    read: int = 0
    inserted: int = 0
    present: int = 0  # already in LiteLLM_SpendLogs (an earlier run, the proxy) or earlier in its chunk: skipped
    skipped_bad: int = 0
    spend: float = 0.0  # of the inserted rows
    daily_rows: int = 0
    deliveries: int = 0  # outbox rows written (LiteLLM 1.110)
    outbox: bool = False
    dry_run: bool = False
    bad: tuple[Bad, ...] = field(default=())

    def summary(self) -> dict[str, Any]:
        return {"records_read": self.read, "inserted": self.inserted, "already_present": self.present,
                "skipped_bad": self.skipped_bad, "spend_added": self.spend, "daily_rows": self.daily_rows,
                "deliveries": self.deliveries, "outbox": self.outbox, "dry_run": self.dry_run,
                "bad": [str(b) for b in self.bad]}


class BadRecords(InvalidInput):
    """Records LiteLLM could not have written: nothing was written. One line each."""

    def __init__(self, bad: Sequence[Bad], total: int) -> None:
        self.bad = tuple(bad)
        more = f" (and {total - len(bad)} more)" if total > len(bad) else ""
        super().__init__("\n".join(str(b) for b in bad) + more,
                         hint=f"{total} bad record{'s' if total != 1 else ''}: nothing written; "
                              "--skip-bad writes the others")


def ingest(target: Target, files: Sequence[Path | IO[bytes]], *, fmt: str = "standard",
           batch_size: int = DEFAULT_BATCH, skip_bad: bool = False, dry_run: bool = False, lock_timeout: float = 30.0,
           jobs: int | None = None, label: Callable[[Path], str] = str,
           progress: Callable[[int, int, object], None] | None = None) -> IngestResult:
    """Read every record into a spool, then write its chunks (see the module docstring). Raises
    BadRecords (nothing written) unless `skip_bad`; LockBusy when another ingest holds the lock.
    `jobs`: worker processes of the pass (None: spool.default_jobs). `progress(done, total, phase)`:
    bytes "read", then records "written"."""
    if fmt not in payloads.FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(payloads.FORMATS)}, not {fmt!r}")
    if not 1 <= batch_size <= MAX_BATCH:
        raise InvalidInput(f"--batch-size must be between 1 and {MAX_BATCH}, not {batch_size}")
    if jobs is not None and not 1 <= jobs <= MAX_JOBS:
        raise InvalidInput(f"--jobs must be between 1 and {MAX_JOBS}, not {jobs}")
    totals = {"inserted": 0, "present": 0, "spend": 0.0, "daily_rows": 0, "deliveries": 0}
    with (database.connect(target, command="spend ingest", autocommit=True) as conn,
          database.advisory_lock(conn, database.family_key(LOCK_FAMILY), timeout=lock_timeout, what="spend ingest")):
        sqlfiles.check_requires(conn, sqlfiles.get("spend/ingest_copy"))  # exit 6 before the staging table
        outbox = bool(sqlfiles.run(conn, "accounting/outbox_exists"))
        with spooled(files, fmt, batch_size, outbox=outbox, skip_bad=skip_bad, jobs=jobs, label=label,
                     progress=progress) as spool:
            if spool.bad_count and not skip_bad:
                raise BadRecords(spool.bad, spool.bad_count)
            done, rows = 0, spool.rows
            for block, count in spool.blocks():
                counts = database.retry(partial(_write_chunk, conn, block, outbox=outbox, dry_run=dry_run),
                                        what="spend ingest chunk")
                for name, value in counts.items():
                    totals[name] += value
                done += count
                if progress:
                    progress(done, rows, "written")
                pausepoints.pause("SPEND_INGEST_CHUNK")
        if not dry_run:
            with conn.transaction():
                sqlfiles.run(conn, "spend/ingest_create_stage")
                sqlfiles.run(conn, "spend/ingest_clear_stage")
    return IngestResult(read=spool.read, skipped_bad=spool.bad_count, outbox=outbox, dry_run=dry_run,
                        bad=tuple(spool.bad), inserted=int(totals["inserted"]),
                        present=int(totals["present"]) + spool.repeated, spend=float(totals["spend"]),
                        daily_rows=int(totals["daily_rows"]), deliveries=int(totals["deliveries"]))


def _write_chunk(conn: psycopg.Connection, block: bytes, *, outbox: bool, dry_run: bool) -> dict[str, float]:
    """One chunk in one transaction (rolled back in a dry run)."""
    with conn.transaction(force_rollback=dry_run):
        sqlfiles.run(conn, "spend/ingest_create_stage")
        sqlfiles.run(conn, "spend/ingest_clear_stage")
        with sqlfiles.copy(conn, "spend/ingest_copy") as copy:
            copy.write(block)
        moved = sqlfiles.run(conn, "spend/ingest_insert")
        counts: dict[str, float] = {"inserted": moved["inserted"], "present": moved["present"],
                                    "spend": moved["spend"], "daily_rows": 0, "deliveries": 0}
        if not moved["inserted"]:
            return counts
        if outbox:
            counts["deliveries"] = sqlfiles.run(conn, "spend/ingest_deliveries")
        else:
            counts["daily_rows"] = sqlfiles.run(conn, "spend/ingest_daily", {
                "litellm_1110": False, "first_writer": True, "tables": list(TABLE_NAMES),
            }, identifiers={"stage": "dbctl_spend_ingest"})
            sqlfiles.run(conn, "spend/ingest_counters")
        return counts
