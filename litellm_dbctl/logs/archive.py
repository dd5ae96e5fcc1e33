"""`dbctl logs archive`: LiteLLM_SpendLogs written out one UTC day a file, with a manifest.

Each day is read in one REPEATABLE READ snapshot: its totals (rows, spend) and its rows, streamed by
the server with COPY TO STDOUT (sqlfiles.copy_out) into the file, so memory stays flat whatever the
size. Parquet (pyarrow, an optional extra) is parsed from the COPY's CSV by pyarrow's streaming CSV
reader with the table's column types and written a row group at a time; JSON lines and CSV are
gzipped as the server renders them. A file is written under a temporary name, fsynced and renamed,
then recorded in the manifest (logs/manifest.py), so a killed run leaves whole files and a manifest
naming only them; the next run skips the days already there. `--jobs N` archives N days at once, each
on its own connection and thread (the server renders one day's rows on one core; pyarrow parses and
writes outside the GIL).

`logs prune --archive-to` asks `before_prune`'s hook before each day it deletes: the day is archived
(unless the manifest already verifies a file with as many rows as the day has) and may go only when its
file's SHA-256 matches the manifest and its rows are all the day holds.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litellm_dbctl import __version__
from litellm_dbctl.common import pausepoints
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.db import database, sqlfiles
from litellm_dbctl.logs import manifest
from litellm_dbctl.logs.manifest import ManifestEntry, verified_days

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

__all__ = ["FORMATS", "ArchiveResult", "DayResult", "ManifestEntry", "archive", "archive_day", "before_prune",
           "verified_days"]

FORMATS = ("parquet", "jsonl.gz", "csv.gz")
LOCK_FAMILY = "logs"
TABLE = "LiteLLM_SpendLogs"
NO_PYARROW = "--format parquet needs pyarrow: pip install 'litellm-dbctl[parquet]' (or use --format jsonl.gz)"
# A Parquet row group is held whole while it is encoded: at most this many rows, and at most this much
# Arrow data (peak memory follows it, ~3x; bench/logs_archive.py at 10M rows: 434 MB with 64k-row groups of
# 1.3 KB rows). Big enough for good compression.
ROW_GROUP_ROWS = 65_536
ROW_GROUP_BYTES = 24 << 20
# Bytes pyarrow's CSV reader parses at a time. Its stream reads about 32 blocks ahead, held as the Python
# bytes _CopyStream returns: 1 MB blocks hold ~35 MB, 4 MB ones ~140 MB (three 217k-row days: a peak of 185 MB
# against 250 MB), at the same speed.
CSV_BLOCK = 1 << 20
GZIP_LEVEL = 1  # gzip's fastest: JSON and CSV of spend logs still shrink ~8x, at ~5x the speed of level 6


def require_pyarrow(fmt: str) -> None:
    """InvalidInput (exit 2, one line) when `fmt` is parquet and pyarrow is not installed."""
    if fmt not in FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "parquet":
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise InvalidInput(NO_PYARROW) from None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of a UTC day, naive as LiteLLM's startTime column is."""
    start = datetime.combine(day, time(0))
    return start, start + timedelta(days=1)


def archive_day(conn: psycopg.Connection, day: date, directory: Path, fmt: str) -> ManifestEntry:
    """Write the spend logs of UTC `day` to `directory`/spendlogs-DAY.FMT (replacing any file of that
    day), atomically (temporary name, fsync, rename, directory fsync), and record it in the manifest;
    returns the entry. Its rows and spend come from the same snapshot as the file: REPEATABLE READ when
    `conn` is idle, else the caller's open transaction (which then decides what is seen). Never takes a
    lock: the caller holds the `logs` advisory lock. Stable API (`logs prune --archive-to` calls it)."""
    require_pyarrow(fmt)
    since, until = day_bounds(day)
    name = manifest.file_name(day, fmt)
    path = directory / name
    partial = directory / f".{name}.{os.getpid()}{manifest.PARTIAL}"
    params = {"since": since, "until": until}
    try:
        with _snapshot(conn):
            sqlfiles.run(conn, "logs/archive_settings")
            totals = sqlfiles.run(conn, "logs/archive_day_totals", params)
            if fmt == "parquet":
                written = _write_parquet(conn, params, partial)
            else:
                written = _write_gzip(conn, params, partial, "jsonl" if fmt == "jsonl.gz" else "csv")
        if written != totals["rows"]:
            raise RuntimeError(f"{name}: wrote {written} rows but the day has {totals['rows']} in the same snapshot")
        pausepoints.pause("LOGS_ARCHIVE_WRITTEN")
        manifest.publish(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    entry = ManifestEntry(day, name, fmt, totals["rows"], totals["spend"], manifest.sha256(path), path.stat().st_size,
                          totals["first_start"], totals["last_start"], datetime.now(timezone.utc), __version__)
    manifest.record(directory, entry)
    return entry


@contextmanager
def _snapshot(conn: psycopg.Connection) -> Iterator[None]:
    """One REPEATABLE READ transaction when `conn` is idle; inside the caller's transaction otherwise."""
    from psycopg import IsolationLevel, pq

    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        with conn.transaction():
            yield
        return
    before = conn.isolation_level
    conn.isolation_level = IsolationLevel.REPEATABLE_READ
    try:
        with conn.transaction():
            yield
    finally:
        conn.isolation_level = before


def _write_gzip(conn: psycopg.Connection, params: dict[str, Any], path: Path, copy_format: str) -> int:
    """The day's rows as the server renders them (CSV with a header, or one JSON object a line), gzipped."""
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0) as out, \
                sqlfiles.copy_out(conn, "logs/archive_day_rows", params, copy_format) as copy:
            for chunk in copy:
                out.write(chunk)
            rows = int(max(copy.cursor.rowcount, 0))
        raw.flush()
        os.fsync(raw.fileno())
    return rows


def arrow_type(pg_type: str) -> Any:
    """The Arrow type of a PostgreSQL column in an archive: timestamps as timestamp[us] (UTC, without a
    zone, as LiteLLM stores them), float8/real/numeric as float64, integers as int64, booleans as bool,
    dates as date32; JSON and everything else as strings (JSON text as PostgreSQL prints it)."""
    import pyarrow as pa

    base = pg_type.split("(")[0].strip()
    if base == "timestamp" and pg_type.endswith("without time zone"):
        return pa.timestamp("us")
    if base in ("double precision", "real", "numeric"):
        return pa.float64()
    if base in ("integer", "bigint", "smallint"):
        return pa.int64()
    if base == "boolean":
        return pa.bool_()
    if base == "date":
        return pa.date32()
    return pa.string()


def _write_parquet(conn: psycopg.Connection, params: dict[str, Any], path: Path) -> int:
    """The day's rows parsed from the COPY's CSV by pyarrow, written a row group at a time."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    columns = sqlfiles.run(conn, "logs/archive_columns", {"table": TABLE})
    schema = pa.schema([(c["name"], arrow_type(c["type"])) for c in columns])
    convert = pacsv.ConvertOptions(column_types={f.name: f.type for f in schema}, null_values=[""],
                                   strings_can_be_null=True, quoted_strings_can_be_null=False,
                                   true_values=["t"], false_values=["f"])
    rows = 0
    with sqlfiles.copy_out(conn, "logs/archive_day_rows", params, "csv") as copy, open(path, "wb") as raw:
        reader = pacsv.open_csv(_CopyStream(iter(copy)), read_options=pacsv.ReadOptions(block_size=CSV_BLOCK),
                                parse_options=pacsv.ParseOptions(newlines_in_values=True), convert_options=convert)
        with pq.ParquetWriter(raw, schema, compression="zstd") as writer:
            pending: list[Any] = []
            size = held = 0
            for batch in reader:
                pending.append(batch)
                size += batch.num_rows
                held += batch.nbytes
                if size >= ROW_GROUP_ROWS or held >= ROW_GROUP_BYTES:
                    writer.write_table(pa.Table.from_batches(pending, schema=schema), row_group_size=size)
                    rows, pending, size, held = rows + size, [], 0, 0
            if pending or rows == 0:
                writer.write_table(pa.Table.from_batches(pending, schema=schema), row_group_size=max(size, 1))
                rows += size
        raw.flush()
        os.fsync(raw.fileno())
    return rows


class _CopyStream:
    """A readable file over COPY TO STDOUT's chunks (one per row), for pyarrow's CSV reader."""

    closed = False

    def __init__(self, chunks: Iterator[Any]) -> None:
        self._chunks = chunks
        self._rest = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        parts = [self._rest] if self._rest else []
        have = len(self._rest)
        while size < 0 or have < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            parts.append(chunk)
            have += len(chunk)
        data = b"".join(parts)
        if 0 <= size < len(data):
            data, self._rest = data[:size], data[size:]
        else:
            self._rest = b""
        return data

    def close(self) -> None:
        self.closed = True


# -- a run over many days ------------------------------------------------------------------------


@dataclass(frozen=True)
class DayResult:
    day: date
    status: str  # archived | skipped (already in the manifest with its file) | pending (dry run)
    rows: int
    spend: float
    file: str
    bytes: int


@dataclass(frozen=True)
class ArchiveResult:
    directory: Path
    format: str
    since: date | None
    until: date  # the last day considered (whole UTC days only; never today)
    days: tuple[DayResult, ...]
    removed_partials: tuple[str, ...]
    dry_run: bool

    @property
    def archived(self) -> tuple[DayResult, ...]:
        return tuple(d for d in self.days if d.status in ("archived", "pending"))


def whole_days(since: datetime | None, until: datetime, now: datetime) -> tuple[datetime | None, datetime]:
    """[since, until) narrowed to whole UTC days that have ended: since rounded up to a midnight,
    until down to one and to today's at most (a day still filling is never archived)."""
    def midnight(moment: datetime) -> datetime:
        return datetime.combine(moment.astimezone(timezone.utc).date(), time(0))

    end = min(midnight(until), midnight(now))
    if since is None:
        return None, end
    start = midnight(since)
    return (start if start == since.astimezone(timezone.utc).replace(tzinfo=None) else start + timedelta(days=1)), end


def archive(target: Target, directory: Path, *, until: datetime, since: datetime | None = None, fmt: str = "parquet",
            dry_run: bool = False, lock_timeout: float = 30.0, now: datetime | None = None, jobs: int = 1,
            progress: Callable[[DayResult], None] | None = None) -> ArchiveResult:
    """Archive every whole UTC day of [since, until) that holds spend logs and is not yet in the manifest
    with its file, oldest first, under the `logs` advisory lock. `dry_run` lists the days without
    writing anything. `jobs` > 1 writes that many days at once, each on a connection of its own: the
    server renders each day's rows on one core, so more days at once use more of its cores."""
    require_pyarrow(fmt)
    start, end = whole_days(since, until, now or datetime.now(timezone.utc))
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"--to {directory}: not a directory")
    results: dict[date, DayResult] = {}
    removed: list[str] = []
    command = "logs archive"

    def settled(result: DayResult) -> None:
        results[result.day] = result
        if progress is not None:
            progress(result)

    with database.connect(target, command=command, read_only=True) as conn, \
            database.advisory_lock(conn, database.family_key(LOCK_FAMILY), timeout=lock_timeout, what=command):
        conn.commit()  # the session lock stays; each day gets its own snapshot
        done = manifest.read(directory) if directory.exists() else {}
        if not dry_run:
            directory.mkdir(parents=True, exist_ok=True)
            for stale in manifest.stale_partials(directory):
                stale.unlink(missing_ok=True)
                removed.append(stale.name)
        days = [r["day"] for r in sqlfiles.run(conn, "logs/archive_days", {
            "since": start or datetime.min, "until": end})]
        conn.commit()
        owed = []
        for day in days:
            entry = done.get(day)
            if entry is not None and manifest.matches(directory, entry, checksum=False):
                settled(DayResult(day, "skipped", entry.rows, entry.spend, entry.file, entry.bytes))
            elif dry_run:
                with _snapshot(conn):
                    totals = sqlfiles.run(conn, "logs/archive_day_totals", dict(zip(("since", "until"),
                                                                                    day_bounds(day))))
                settled(DayResult(day, "pending", totals["rows"], totals["spend"], manifest.file_name(day, fmt), 0))
            else:
                owed.append(day)
        if jobs > 1 and len(owed) > 1:
            _archive_in_parallel(target, owed, directory, fmt, jobs, settled)
        else:
            for day in owed:
                settled(_archived(archive_day(conn, day, directory, fmt)))
                pausepoints.pause("LOGS_ARCHIVE_DAY")
    last = (end - timedelta(days=1)).date()
    return ArchiveResult(directory, fmt, start.date() if start else None, last,
                         tuple(results[day] for day in sorted(results)), tuple(removed), dry_run)


def _archived(entry: ManifestEntry) -> DayResult:
    return DayResult(entry.day, "archived", entry.rows, entry.spend, entry.file, entry.bytes)


def _archive_in_parallel(target: Target, days: list[date], directory: Path, fmt: str, jobs: int,
                         settled: Callable[[DayResult], None]) -> None:
    """`days` archived by `jobs` threads, each with its own read-only connection (the caller's holds the
    lock). Each day is whole on its own, as one after another: a file renamed into place, then its
    manifest entry (manifest.record serializes them). The first failure stops the days not begun."""
    import threading
    from concurrent.futures import ThreadPoolExecutor, as_completed

    mine = threading.local()
    opened: list[psycopg.Connection] = []

    def one(day: date) -> ManifestEntry:
        conn = getattr(mine, "conn", None)
        if conn is None:  # this thread's first day
            conn = mine.conn = database.connect(target, command="logs archive", read_only=True)
            opened.append(conn)
        return archive_day(conn, day, directory, fmt)

    try:
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="dbctl-archive") as pool:
            futures = [pool.submit(one, day) for day in days]
            try:
                for future in as_completed(futures):
                    settled(_archived(future.result()))
                    pausepoints.pause("LOGS_ARCHIVE_DAY")
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    finally:
        for conn in opened:
            conn.close()


def before_prune(directory: Path, fmt: str) -> Callable[[psycopg.Connection, date], bool]:
    """The hook `logs prune --archive-to DIR` asks before deleting a day: archive the day unless the
    manifest verifies a file (SHA-256) holding as many rows as the day has now, then say yes only
    when the file verifies and the day still holds exactly its rows; a day that changed between the
    two counts is skipped (left for the next run). Its rows are then deleted, and no row goes that is
    not in a verified file (a row logged into a past day after the last count aside: LiteLLM writes
    startTime as the request's time, so a day older than the cutoff does not grow)."""
    require_pyarrow(fmt)
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"--archive-to {directory}: not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    verified = verified_days(directory)

    def rows_now(conn: psycopg.Connection, day: date) -> int:
        return int(sqlfiles.run(conn, "logs/archive_day_totals", dict(zip(("since", "until"), day_bounds(day))))["rows"])

    def allow(conn: psycopg.Connection, day: date) -> bool:
        entry = verified.get(day)
        if entry is None or entry.rows != rows_now(conn, day):
            try:
                entry = archive_day(conn, day, directory, fmt)
            except OSError:  # a file that cannot be written (disk full, a directory in its place): keep the day
                return False
            if not manifest.matches(directory, entry, checksum=True):
                return False
            verified[day] = entry
        return entry.rows == rows_now(conn, day)

    return allow
