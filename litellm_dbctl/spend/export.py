"""`dbctl spend export`: daily rows or spend logs of a period, streamed as CSV or JSON lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from litellm_dbctl.common import durations
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.common.periods import Period
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.spend.names import Filters, resolve
from litellm_dbctl.spend.report import ALL_GROUPS, ENTITIES, query_plan

if TYPE_CHECKING:
    import psycopg

EXPORT_FORMATS = tuple(sqlfiles.COPY_OUT)


@dataclass(frozen=True)
class ExportResult:
    rows: int
    bytes: int


def stream(conn: psycopg.Connection, out: IO[bytes], period: Period, filters: Filters, *, fmt: str = "csv",
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
        plan = query_plan("daily", period, by, resolved, per_day=False, top=ALL_GROUPS)
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
