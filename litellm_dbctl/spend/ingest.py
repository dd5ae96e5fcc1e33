"""`dbctl spend ingest`: spend logs from outside the proxy (LiteLLM's StandardLoggingPayload files, or
rows of `spend export --format jsonl`) written as the proxy writes its own.

One pass over the input, then the writes. The pass reads each record once, builds its row
(spend.payloads) and encodes it as a COPY line into a temporary spool, `batch_size` rows a chunk (a
request_id repeated within a chunk kept once, the first), writing nothing to the database: one bad
record is reported as `file:line: field: message` and nothing is written (or, with `skip_bad`, it is
left out). Then each chunk is one transaction: its bytes COPYed into dbctl's staging table, inserted
into LiteLLM_SpendLogs where not there yet (by request_id), and only for those rows the spend added to
the counters and the daily tables (or, on LiteLLM 1.110's outbox, the pending deliveries its worker
applies). A run killed midway has committed whole chunks; running it again skips what they inserted,
so nothing counts twice. Memory is one chunk; the spool is on disk, as large as the rows it holds.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timezone
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


def input_files(path: Path) -> list[Path]:
    """A file as it is; a directory's .json/.jsonl files at any depth (a bucket logger's prefix), by name."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
    if not path.exists():
        raise InvalidInput(f"PATH: no such file or directory: {path}")
    return [path]


def records(files: Sequence[Path | IO[bytes]], fmt: str, *, label: Callable[[Path], str] = str
            ) -> Iterator[tuple[str, dict[str, Any] | Bad, int]]:
    """(file:line, row or Bad, bytes of input it took) for every record: a .jsonl line (blank lines
    skipped), or a .json file holding one object (a bucket logger's object) or an array of them. A
    stream (stdin) is read as JSON lines and named `<stdin>`."""
    for source in files:
        if not isinstance(source, Path):
            yield from _lines(source, "<stdin>", fmt)
            continue
        name = label(source)
        if source.name.endswith(".json"):
            text = source.read_bytes()
            try:
                whole = json.loads(text)
            except (ValueError, RecursionError) as exc:
                yield f"{name}:1", Bad(f"{name}:1", "record", f"not JSON: {exc}"), len(text)
                continue
            items = whole if isinstance(whole, list) else [whole]
            for n, item in enumerate(items):
                place, built = _one(f"{name}:1" if not isinstance(whole, list) else f"{name}:1[{n}]", item, fmt)
                yield place, built, len(text) if n == len(items) - 1 else 0
            continue
        with source.open("rb") as stream:
            yield from _lines(stream, name, fmt)


def _lines(stream: IO[bytes], name: str, fmt: str) -> Iterator[tuple[str, dict[str, Any] | Bad, int]]:
    skipped = 0  # the bytes of blank lines, counted with the next record
    for number, line in enumerate(stream, 1):
        if not line.strip():
            skipped += len(line)
            continue
        place = f"{name}:{number}"
        size, skipped = len(line) + skipped, 0
        try:
            parsed = json.loads(line)
        except (ValueError, RecursionError) as exc:
            yield place, Bad(place, "record", f"not JSON: {str(exc).splitlines()[0]}"), size
            continue
        yield (*_one(place, parsed, fmt, deep=not payloads.plain_line(line)), size)


def _one(place: str, parsed: object, fmt: str, *, deep: bool = True) -> tuple[str, dict[str, Any] | Bad]:
    try:
        return place, payloads.row(parsed, fmt, deep=deep)
    except BadField as exc:
        return place, Bad(place, exc.field, exc.message)


@dataclass
class Spool:
    """The encoded chunks of one pass over the input (a temporary file), and what the pass found."""

    path: Path
    chunks: list[tuple[int, int]] = field(default_factory=list)  # (offset, rows) of each chunk's bytes
    read: int = 0
    bad: list[Bad] = field(default_factory=list)  # the first SHOWN_BAD
    bad_count: int = 0
    repeated: int = 0  # records whose request_id came earlier in the same chunk: left out, as present
    end: int = 0  # the spool's size

    @property
    def rows(self) -> int:
        return sum(rows for _offset, rows in self.chunks)

    def blocks(self) -> Iterator[tuple[bytes, int]]:
        """Each chunk's COPY bytes and its row count."""
        bounds = [offset for offset, _rows in self.chunks] + [self.end]
        with self.path.open("rb") as data:
            for (offset, rows), stop in zip(self.chunks, bounds[1:]):
                data.seek(offset)
                yield data.read(stop - offset), rows


@contextmanager
def spooled(files: Sequence[Path | IO[bytes]], fmt: str, batch_size: int, *, outbox: bool, skip_bad: bool,
            label: Callable[[Path], str] = str, progress: Callable[[int, int, object], None] | None = None
            ) -> Iterator[Spool]:
    """The one pass: every record read, checked, built and encoded once into a temporary spool of
    COPY chunks (removed afterwards). `progress(bytes read, bytes in all, "read")` per chunk."""
    total = sum(f.stat().st_size for f in files if isinstance(f, Path))
    with tempfile.TemporaryDirectory(prefix="dbctl-ingest-") as scratch:
        spool = Spool(Path(scratch) / "chunks.copy")
        consumed = 0
        with spool.path.open("wb") as out:
            chunk: dict[str, dict[str, Any]] = {}

            def flush() -> None:
                spool.chunks.append((out.tell(), len(chunk)))
                out.write(encode(list(chunk.values()), outbox=outbox))
                chunk.clear()
                if progress:
                    progress(consumed, max(total, consumed), "read")

            for _place, item, size in records(files, fmt, label=label):
                spool.read += 1
                consumed += size
                if isinstance(item, Bad):
                    spool.bad_count += 1
                    if len(spool.bad) < SHOWN_BAD:
                        spool.bad.append(item)
                    continue
                if spool.bad_count and not skip_bad:
                    continue  # nothing will be written: the rest is only checked
                if item["request_id"] in chunk:
                    spool.repeated += 1
                    continue
                chunk[item["request_id"]] = item
                if len(chunk) >= batch_size:
                    flush()
            if chunk:
                flush()
            spool.end = out.tell()
        yield spool


def ingest(target: Target, files: Sequence[Path | IO[bytes]], *, fmt: str = "standard",
           batch_size: int = DEFAULT_BATCH, skip_bad: bool = False, dry_run: bool = False, lock_timeout: float = 30.0,
           label: Callable[[Path], str] = str, progress: Callable[[int, int, object], None] | None = None
           ) -> IngestResult:
    """Read every record into a spool, then write its chunks (see the module docstring). Raises
    BadRecords (nothing written) unless `skip_bad`; LockBusy when another ingest holds the lock.
    `progress(done, total, phase)`: bytes "read", then records "written"."""
    if fmt not in payloads.FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(payloads.FORMATS)}, not {fmt!r}")
    if not 1 <= batch_size <= MAX_BATCH:
        raise InvalidInput(f"--batch-size must be between 1 and {MAX_BATCH}, not {batch_size}")
    totals = {"inserted": 0, "present": 0, "spend": 0.0, "daily_rows": 0, "deliveries": 0}
    with (database.connect(target, command="spend ingest", autocommit=True) as conn,
          database.advisory_lock(conn, database.family_key(LOCK_FAMILY), timeout=lock_timeout, what="spend ingest")):
        sqlfiles.check_requires(conn, sqlfiles.get("spend/ingest_copy"))  # exit 6 before the staging table
        outbox = bool(sqlfiles.run(conn, "accounting/outbox_exists"))
        with spooled(files, fmt, batch_size, outbox=outbox, skip_bad=skip_bad, label=label,
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


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def encode(rows: Sequence[dict[str, Any]], *, outbox: bool) -> bytes:
    """COPY text format of the staged columns (payloads.COLUMNS, delivery_id, accounting_payload)."""
    lines = []
    for r in rows:
        cells = [encoder(r[name]) for name, encoder in _ENCODERS]
        if outbox:
            delivery = r["request_id"] if r["call_type"] == "aretrieve_batch" else uuid.uuid4().hex
            cells += [_text(delivery), _text(jsontext.dumps(payloads.accounting_payload(r)))]
        else:
            cells += ["\\N", "\\N"]
        lines.append("\t".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _text(value: str) -> str:
    return value.translate(_ESCAPES) if ("\\" in value or "\t" in value or "\n" in value or "\r" in value) else value


def _json_cell(value: Any) -> str:
    return "\\N" if value is None else _text(jsontext.dumps(value))


def _time_cell(value: Any) -> str:  # the columns hold UTC without a zone
    return "\\N" if value is None else value.astimezone(timezone.utc).replace(tzinfo=None).isoformat()


def _plain_cell(value: Any) -> str:
    if value is None:
        return "\\N"
    return _text(value) if isinstance(value, str) else repr(value)


_TIME_COLUMNS = frozenset({"startTime", "endTime", "completionStartTime"})
# Each staged column's encoder, chosen once rather than per cell (the spool's hottest loop).
_ENCODERS = tuple((name, _json_cell if name in payloads.JSON_COLUMNS else _time_cell if name in _TIME_COLUMNS
                   else _plain_cell) for name in payloads.COLUMNS)
