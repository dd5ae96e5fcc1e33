"""`logs scrub`: blank the prompts and responses of spend logs before a cutoff, keep the accounting.

For operators whose privacy rule is shorter than their billing one. A scrubbed spend log keeps its
spend, tokens, ids, times, model, tags, status and the metadata the daily tables count; it loses
`messages`, `response` and `proxy_server_request` (set to their column default, '{}', what LiteLLM
itself writes with `store_prompts_in_spend_logs` off) and the bodies LiteLLM copies into `metadata`
(queries/logs/scrubbed_metadata.sql says which, and why the guardrails' compression stats stay).

The walk is `batches.walk` over whole UTC days before the cutoff (`batches.cutoff_for`), in
("startTime", request_id) order: each batch looks at the next rows and rewrites only those that
still hold something, so a re-run (after a kill, or the next night's cron) changes nothing twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from litellm_dbctl.common import clock
from litellm_dbctl.db import database, sqlfiles
from litellm_dbctl.logs import batches
from litellm_dbctl.logs.batches import FIRST_KEY, Pace

if TYPE_CHECKING:
    from collections.abc import Callable

    from litellm_dbctl.db.config import Target


@dataclass(frozen=True)
class ScrubResult:
    cutoff: datetime
    dry_run: bool
    rows: int  # scrubbed (or in a dry run, to scrub)
    scanned: int  # spend logs before the cutoff looked at
    batches: int = 0
    vacuumed: bool = False
    seconds: float = 0.0


def scrub(target: Target, cutoff: datetime, *, dry_run: bool = False, pace: Pace = Pace(), lock_timeout: float = 30.0,
          progress: Callable[[int, int], None] | None = None, vacuum: bool = False) -> ScrubResult:
    """Scrub every spend log before `cutoff` that still holds a prompt or response (module
    docstring), under the `logs` advisory lock. A dry run counts them and changes nothing.
    `progress(looked_at, total)` after each batch (the total is counted first only when asked)."""
    command = "logs scrub"
    started = time.monotonic()
    until = clock.utc_naive(cutoff)
    conn, wait = batches.connect(target, command=command, lock_timeout=lock_timeout)
    with conn, wait, database.advisory_lock(conn, database.family_key(batches.LOCK_FAMILY), timeout=lock_timeout,
                                            what=command):
        if dry_run:
            counted = sqlfiles.run(conn, "logs/scrub_count", {"until": until})
            return ScrubResult(cutoff, True, counted["rows"], counted["scanned"], seconds=time.monotonic() - started)
        total = 0
        if progress is not None:
            total = sum(r["rows"] for r in sqlfiles.run(conn, "logs/day_counts", {"cutoff": until}))
        looked = 0

        def counted_batch(batch: batches.Batch) -> None:
            nonlocal looked
            looked += batch.scanned
            if progress is not None:
                progress(looked, total)

        walked = batches.walk(conn, "logs/scrub_batch", {"since": FIRST_KEY[0], "until": until}, pace=pace,
                              wait=wait, what=command, on_batch=counted_batch)
        vacuumed = False
        if vacuum:
            sqlfiles.run(conn, "logs/vacuum_logs")
            vacuumed = True
        return ScrubResult(cutoff, False, walked.affected, walked.scanned, walked.batches, vacuumed,
                           time.monotonic() - started)
