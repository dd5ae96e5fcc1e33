"""`dbctl spend ingest`: spend logs from outside the proxy (LiteLLM's StandardLoggingPayload files, or
rows of `spend export --format jsonl`) written as the proxy writes its own.

Two passes. The first reads every record and builds its row (spend.payloads) without writing: one bad
record is reported as `file:line: field: message` and nothing is written (or, with `skip_bad`, it is
left out). The second reads again and writes chunks of `batch_size` records, one transaction each:
COPY into dbctl's staging table, insert into LiteLLM_SpendLogs what is not there yet (by request_id),
and only for those rows add the spend to the counters and the daily tables (or, on LiteLLM 1.110's
outbox, write the pending deliveries its worker applies). A run killed midway has committed whole
chunks; running it again skips what they inserted, so nothing counts twice. Memory is one chunk:
stdin is spooled to a temporary file, so it is read twice like a file.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from litellm_dbctl.common import jsontext, pausepoints
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.daily.tables import TABLE_NAMES
from litellm_dbctl.db import database, sqlfiles
from litellm_dbctl.spend import payloads
from litellm_dbctl.spend.payloads import BadField

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

LOCK_FAMILY = "spend-ingest"
DEFAULT_BATCH = 5000
MAX_BATCH = 100_000
SHOWN_BAD = 1000  # bad records kept for the report; all are counted
SUFFIXES = (".json", ".jsonl")


@dataclass(frozen=True)
class Bad:
    place: str  # file:line
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.place}: {self.field}: {self.message}"


@dataclass(frozen=True)
class IngestResult:
    read: int = 0
    inserted: int = 0
    present: int = 0  # already in LiteLLM_SpendLogs (an earlier run, the proxy): skipped
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


def input_files(path: Path) -> list[Path]:
    """A file as it is; a directory's .json/.jsonl files at any depth (a bucket logger's prefix), by name."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
    if not path.exists():
        raise InvalidInput(f"PATH: no such file or directory: {path}")
    return [path]


@contextmanager
def spooled(stream: IO[bytes]) -> Iterator[Path]:
    """stdin copied to a temporary file (read twice, never held in memory), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="dbctl-ingest-") as scratch:
        spool = Path(scratch) / "stdin.jsonl"
        with spool.open("wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
        yield spool


def records(files: Sequence[Path], fmt: str, *, label: Callable[[Path], str] = str
            ) -> Iterator[tuple[str, dict[str, Any] | Bad]]:
    """(file:line, row or Bad) for every record: a .jsonl line (blank lines skipped), or a .json file
    holding one object (a bucket logger's object) or an array of them."""
    for path in files:
        name = label(path)
        if path.name.endswith(".json"):
            try:
                whole = json.loads(path.read_bytes())
            except (ValueError, RecursionError) as exc:
                yield f"{name}:1", Bad(f"{name}:1", "record", f"not JSON: {exc}")
                continue
            for n, item in enumerate(whole if isinstance(whole, list) else [whole]):
                yield _one(f"{name}:1" if not isinstance(whole, list) else f"{name}:1[{n}]", item, fmt)
            continue
        with path.open("rb") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                place = f"{name}:{number}"
                try:
                    parsed = json.loads(line)
                except (ValueError, RecursionError) as exc:
                    yield place, Bad(place, "record", f"not JSON: {str(exc).splitlines()[0]}")
                    continue
                yield _one(place, parsed, fmt, deep=not payloads.plain_line(line))


def _one(place: str, parsed: object, fmt: str, *, deep: bool = True) -> tuple[str, dict[str, Any] | Bad]:
    try:
        return place, payloads.row(parsed, fmt, deep=deep)
    except BadField as exc:
        return place, Bad(place, exc.field, exc.message)


def validate(files: Sequence[Path], fmt: str, *, label: Callable[[Path], str] = str) -> tuple[int, list[Bad], int]:
    """The first pass: (records read, the first SHOWN_BAD bad ones, how many are bad)."""
    read = bad_count = 0
    bad: list[Bad] = []
    for _place, item in records(files, fmt, label=label):
        read += 1
        if isinstance(item, Bad):
            bad_count += 1
            if len(bad) < SHOWN_BAD:
                bad.append(item)
    return read, bad, bad_count


def ingest(target: Target, files: Sequence[Path], *, fmt: str = "standard", batch_size: int = DEFAULT_BATCH,
           skip_bad: bool = False, dry_run: bool = False, lock_timeout: float = 30.0,
           label: Callable[[Path], str] = str, progress: Callable[[int, int], None] | None = None) -> IngestResult:
    """Validate every record, then write them in chunks (see the module docstring). Raises BadRecords
    (nothing written) unless `skip_bad`; LockBusy when another ingest holds the lock."""
    if fmt not in payloads.FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(payloads.FORMATS)}, not {fmt!r}")
    if not 1 <= batch_size <= MAX_BATCH:
        raise InvalidInput(f"--batch-size must be between 1 and {MAX_BATCH}, not {batch_size}")
    read, bad, bad_count = validate(files, fmt, label=label)
    if bad_count and not skip_bad:
        raise BadRecords(bad, bad_count)
    totals = {"inserted": 0, "present": 0, "spend": 0.0, "daily_rows": 0, "deliveries": 0}
    with (database.connect(target, command="spend ingest", autocommit=True) as conn,
          database.advisory_lock(conn, database.family_key(LOCK_FAMILY), timeout=lock_timeout, what="spend ingest")):
        sqlfiles.check_requires(conn, sqlfiles.get("spend/ingest_copy"))  # exit 6 before the staging table
        outbox = bool(sqlfiles.run(conn, "accounting/outbox_exists"))
        done = 0
        for chunk in _chunks(files, fmt, batch_size, label):
            counts = database.retry(partial(_write_chunk, conn, chunk, outbox=outbox, dry_run=dry_run),
                                    what="spend ingest chunk")
            for name, value in counts.items():
                totals[name] += value
            done += len(chunk)
            if progress:
                progress(done, read - bad_count)
            pausepoints.pause("SPEND_INGEST_CHUNK")
        if not dry_run:
            with conn.transaction():
                sqlfiles.run(conn, "spend/ingest_create_stage")
                sqlfiles.run(conn, "spend/ingest_clear_stage")
    return IngestResult(read=read, skipped_bad=bad_count, outbox=outbox, dry_run=dry_run, bad=tuple(bad),
                        inserted=int(totals["inserted"]), present=int(totals["present"]), spend=float(totals["spend"]),
                        daily_rows=int(totals["daily_rows"]), deliveries=int(totals["deliveries"]))


def _chunks(files: Sequence[Path], fmt: str, size: int, label: Callable[[Path], str]) -> Iterator[list[dict[str, Any]]]:
    """The good records' rows, `size` at a time; a request_id repeated within a chunk is kept once
    (the first), as the table keeps the first writer across chunks."""
    chunk: dict[str, dict[str, Any]] = {}
    for _place, item in records(files, fmt, label=label):
        if isinstance(item, Bad):
            continue
        chunk.setdefault(item["request_id"], item)
        if len(chunk) >= size:
            yield list(chunk.values())
            chunk = {}
    if chunk:
        yield list(chunk.values())


def _write_chunk(conn: psycopg.Connection, rows: list[dict[str, Any]], *, outbox: bool,
                 dry_run: bool) -> dict[str, float]:
    """One chunk in one transaction (rolled back in a dry run)."""
    with conn.transaction(force_rollback=dry_run):
        sqlfiles.run(conn, "spend/ingest_create_stage")
        sqlfiles.run(conn, "spend/ingest_clear_stage")
        with sqlfiles.copy(conn, "spend/ingest_copy") as copy:
            copy.write(encode(rows, outbox=outbox))
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


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def encode(rows: Sequence[dict[str, Any]], *, outbox: bool) -> bytes:
    """COPY text format of the staged columns (payloads.COLUMNS, delivery_id, accounting_payload)."""
    lines = []
    for r in rows:
        cells = [_cell(name, r[name]) for name in payloads.COLUMNS]
        if outbox:
            delivery = r["request_id"] if r["call_type"] == "aretrieve_batch" else uuid.uuid4().hex
            cells += [_text(delivery), _text(jsontext.dumps(payloads.accounting_payload(r)))]
        else:
            cells += ["\\N", "\\N"]
        lines.append("\t".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _text(value: str) -> str:
    return value.translate(_ESCAPES) if ("\\" in value or "\t" in value or "\n" in value or "\r" in value) else value


def _cell(name: str, value: Any) -> str:
    if value is None:
        return "\\N"
    if name in payloads.JSON_COLUMNS:
        return _text(jsontext.dumps(value))
    if isinstance(value, datetime):  # the columns hold UTC without a zone
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    if isinstance(value, str):
        return _text(value)
    return repr(value)
