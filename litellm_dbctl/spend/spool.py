"""`spend ingest`'s one pass over its input, before anything is written: each record read, checked,
built (spend.payloads) and encoded once as a COPY line into a temporary spool of chunks. No database.

The input is cut into blocks (lines of a JSON-lines source, or whole `.json` files). With `jobs` > 1
the blocks are built by worker processes, in order and at most two per worker in flight, so the spool
is the same whatever the number of jobs and memory stays a few blocks. Workers are spawned, not
forked: the parent may hold threads and a database connection.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path
from typing import IO, Any

from litellm_dbctl.common import jsontext
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.spend import payloads
from litellm_dbctl.spend.payloads import BadField

SUFFIXES = (".json", ".jsonl")
SHOWN_BAD = 1000  # bad records kept for the report; all are counted
BLOCK_LINES = 1000  # JSON lines per block
BLOCK_FILES = 200  # .json files (a bucket logger's objects) per block
PARALLEL_BYTES = 32 << 20  # smaller inputs are built in-process: workers cost more to start than they save
MAX_JOBS = 64


@dataclass(frozen=True)
class Bad:
    place: str  # file:line
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.place}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Block:
    """One unit of work: `lines` of the JSON-lines source `name` from line `first` on, or `files`,
    whole .json files as (name, bytes). `size`: the input bytes it covers (for progress)."""

    name: str = ""
    first: int = 1
    lines: tuple[bytes, ...] = ()
    files: tuple[tuple[str, bytes], ...] = ()
    size: int = 0


Built = tuple[str, bytes] | Bad  # a good record's (request_id, COPY line), or why it is bad


def input_files(path: Path) -> list[Path]:
    """A file as it is; a directory's .json/.jsonl files at any depth (a bucket logger's prefix), by name."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
    if not path.exists():
        raise InvalidInput(f"PATH: no such file or directory: {path}")
    return [path]


def blocks(files: Sequence[Path | IO[bytes]], *, label: Callable[[Path], str] = str) -> Iterator[Block]:
    """The input in blocks: a stream (stdin) is JSON lines named `<stdin>`; a `.json` file holds one
    object (a bucket logger's) or an array of them; any other file is JSON lines."""
    objects: list[tuple[str, bytes]] = []
    for source in files:
        if isinstance(source, Path) and source.name.endswith(".json"):
            objects.append((label(source), source.read_bytes()))
            if len(objects) >= BLOCK_FILES:
                yield Block(files=tuple(objects), size=sum(len(text) for _, text in objects))
                objects = []
            continue
        if objects:  # the files' order is the records' order (the first of a repeated request_id wins)
            yield Block(files=tuple(objects), size=sum(len(text) for _, text in objects))
            objects = []
        if isinstance(source, Path):
            with source.open("rb") as stream:
                yield from _line_blocks(stream, label(source))
        else:
            yield from _line_blocks(source, "<stdin>")
    if objects:
        yield Block(files=tuple(objects), size=sum(len(text) for _, text in objects))


def _line_blocks(stream: IO[bytes], name: str) -> Iterator[Block]:
    lines: list[bytes] = []
    first = 1
    for number, line in enumerate(stream, 1):
        lines.append(line)
        if len(lines) >= BLOCK_LINES:
            yield Block(name=name, first=first, lines=tuple(lines), size=sum(map(len, lines)))
            lines, first = [], number + 1
    if lines:
        yield Block(name=name, first=first, lines=tuple(lines), size=sum(map(len, lines)))


def build(block: Block, fmt: str, outbox: bool) -> list[Built]:
    """Each record of `block`, in order: its request_id and COPY line, or a Bad naming file:line."""
    built: list[Built] = []
    for number, line in enumerate(block.lines, block.first):
        if not line.strip():
            continue
        place = f"{block.name}:{number}"
        try:
            parsed = json.loads(line)
        except (ValueError, RecursionError) as exc:
            built.append(Bad(place, "record", f"not JSON: {str(exc).splitlines()[0]}"))
            continue
        built.append(_one(place, parsed, fmt, outbox, deep=not payloads.plain_line(line)))
    for name, text in block.files:
        try:
            whole = json.loads(text)
        except (ValueError, RecursionError) as exc:
            built.append(Bad(f"{name}:1", "record", f"not JSON: {exc}"))
            continue
        if isinstance(whole, list):
            built.extend(_one(f"{name}:1[{n}]", item, fmt, outbox) for n, item in enumerate(whole))
        else:
            built.append(_one(f"{name}:1", whole, fmt, outbox))
    return built


def _one(place: str, parsed: object, fmt: str, outbox: bool, *, deep: bool = True) -> Built:
    try:
        row = payloads.row(parsed, fmt, deep=deep)
    except BadField as exc:
        return Bad(place, exc.field, exc.message)
    return row["request_id"], line(row, outbox=outbox)


def line(r: dict[str, Any], *, outbox: bool) -> bytes:
    """A row as a line of COPY text format: the staged columns (payloads.COLUMNS, delivery_id,
    accounting_payload; the last two only on an outbox database)."""
    cells = [encoder(r[name]) for name, encoder in _ENCODERS]
    if outbox:
        delivery = r["request_id"] if r["call_type"] == "aretrieve_batch" else uuid.uuid4().hex
        cells += [_text(delivery), _text(jsontext.dumps(payloads.accounting_payload(r)))]
    else:
        cells += ["\\N", "\\N"]
    return ("\t".join(cells) + "\n").encode("utf-8")


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


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
# Each staged column's encoder, chosen once rather than per cell (the pass's hottest loop).
_ENCODERS = tuple((name, _json_cell if name in payloads.JSON_COLUMNS else _time_cell if name in _TIME_COLUMNS
                   else _plain_cell) for name in payloads.COLUMNS)


def default_jobs(files: Sequence[Path | IO[bytes]]) -> int:
    """One worker per core (at most 4) for a large input or a stream; in-process for a small one."""
    known = all(isinstance(f, Path) for f in files)
    if known and sum(f.stat().st_size for f in files if isinstance(f, Path)) < PARALLEL_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def built_blocks(source: Iterator[Block], fmt: str, outbox: bool, jobs: int) -> Iterator[tuple[int, list[Built]]]:
    """(block size, its records built) for each block, in order; `jobs` > 1 builds them in workers."""
    if jobs <= 1:
        for block in source:
            yield block.size, build(block, fmt, outbox)
        return
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: deque[tuple[int, Future[list[Built]]]] = deque()
        for block in source:
            pending.append((block.size, pool.submit(build, block, fmt, outbox)))
            if len(pending) >= 2 * jobs:
                size, done = pending.popleft()
                yield size, done.result()
        while pending:
            size, done = pending.popleft()
            yield size, done.result()


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
            jobs: int | None = None, label: Callable[[Path], str] = str,
            progress: Callable[[int, int, object], None] | None = None) -> Iterator[Spool]:
    """The pass: every record into a temporary spool of COPY chunks of `batch_size` rows (a request_id
    repeated within a chunk kept once, the first), removed afterwards. Once a record is bad and not
    `skip_bad`, nothing more is spooled (nothing will be written), but every record is still checked.
    `progress(bytes read, bytes in all, "read")` per block."""
    jobs = default_jobs(files) if jobs is None else jobs
    total = sum(f.stat().st_size for f in files if isinstance(f, Path))
    with tempfile.TemporaryDirectory(prefix="dbctl-ingest-") as scratch:
        spool = Spool(Path(scratch) / "chunks.copy")
        consumed = 0
        with spool.path.open("wb") as out:
            chunk: dict[str, bytes] = {}

            def flush() -> None:
                spool.chunks.append((out.tell(), len(chunk)))
                out.write(b"".join(chunk.values()))
                chunk.clear()

            for size, built in built_blocks(blocks(files, label=label), fmt, outbox, jobs):
                for entry in built:
                    spool.read += 1
                    if isinstance(entry, Bad):
                        spool.bad_count += 1
                        if len(spool.bad) < SHOWN_BAD:
                            spool.bad.append(entry)
                        continue
                    if spool.bad_count and not skip_bad:
                        continue
                    request_id, encoded = entry
                    if request_id in chunk:
                        spool.repeated += 1
                        continue
                    chunk[request_id] = encoded
                    if len(chunk) >= batch_size:
                        flush()
                consumed += size
                if progress:
                    progress(consumed, max(total, consumed), "read")
            if chunk:
                flush()
            spool.end = out.tell()
        yield spool
