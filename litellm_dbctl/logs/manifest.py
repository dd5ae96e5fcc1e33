"""The manifest of a spend-log archive directory: `manifest.json`, one entry per archived UTC day.

An entry is written only after its day's file is complete on disk (written under a temporary name,
fsynced, renamed, the directory fsynced), and the manifest itself is replaced the same way, so after
a kill at any point the manifest names only whole files. `verified_days` is what `logs prune
--archive-to` trusts: the days whose file is there with the SHA-256 the manifest recorded.

    {"manifest_version": 1, "table": "LiteLLM_SpendLogs",
     "days": {"2026-10-01": {"file": "spendlogs-2026-10-01.parquet", "format": "parquet", "rows": 171234,
                             "spend": 812.03, "sha256": "…", "bytes": 40960123,
                             "first_start": "2026-10-01T00:00:00.012", "last_start": "2026-10-01T23:59:59.999",
                             "archived_at": "2026-12-07T14:00:00+00:00", "dbctl_version": "0.1.0"}}}
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from litellm_dbctl.common.errors import IntegrityError

NAME = "manifest.json"
_RECORDING = threading.Lock()  # record(): one read-modify-write at a time
VERSION = 1
TABLE = "LiteLLM_SpendLogs"
PREFIX = "spendlogs-"
PARTIAL = ".partial"  # the suffix of a file being written (`.spendlogs-<day>.<ext>.<pid>.partial`)


@dataclass(frozen=True)
class ManifestEntry:
    """One archived UTC day: its file (a name inside the directory), what it holds, and its checksum.
    `rows` and `spend` were read in the same snapshot as the rows in the file."""

    day: date
    file: str
    format: str  # parquet | jsonl.gz | csv.gz
    rows: int
    spend: float
    sha256: str
    bytes: int
    first_start: datetime | None  # the day's first and last startTime (UTC, as stored); None for an empty day
    last_start: datetime | None
    archived_at: datetime
    dbctl_version: str

    def to_json(self) -> dict[str, Any]:
        record = asdict(self)
        del record["day"]
        for key in ("first_start", "last_start", "archived_at"):
            record[key] = record[key].isoformat() if record[key] is not None else None
        return record

    @classmethod
    def from_json(cls, day: str, record: dict[str, Any]) -> ManifestEntry:
        def moment(key: str) -> datetime | None:
            return datetime.fromisoformat(record[key]) if record.get(key) else None

        archived_at = moment("archived_at")
        assert archived_at is not None
        return cls(date.fromisoformat(day), str(record["file"]), str(record["format"]), int(record["rows"]),
                   float(record["spend"]), str(record["sha256"]), int(record["bytes"]), moment("first_start"),
                   moment("last_start"), archived_at, str(record["dbctl_version"]))


def file_name(day: date, fmt: str) -> str:
    """`spendlogs-2026-10-01.parquet`: the file of one UTC day."""
    return f"{PREFIX}{day.isoformat()}.{fmt}"


def read(directory: Path) -> dict[date, ManifestEntry]:
    """The entries of `directory`'s manifest ({} when there is none yet). A manifest dbctl cannot read
    is an IntegrityError (exit 4) naming it: dbctl never overwrites what it does not understand."""
    path = directory / NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        document = json.loads(text)
        if document.get("manifest_version") != VERSION or document.get("table") != TABLE:
            raise ValueError(f"manifest_version {document.get('manifest_version')!r} / table {document.get('table')!r}")
        return {entry.day: entry for entry in (ManifestEntry.from_json(day, record)
                                               for day, record in document["days"].items())}
    except (ValueError, KeyError, TypeError, AttributeError, AssertionError) as exc:
        raise IntegrityError(f"{path}: not a dbctl spend-log manifest dbctl can read ({exc})",
                             hint="move it away, or archive to another directory") from None


def record(directory: Path, entry: ManifestEntry) -> None:
    """Add (or replace) `entry` in the manifest, atomically: the new manifest is written beside it,
    fsynced and renamed over it. One writer at a time in this process (`logs archive --jobs`); other
    processes are kept out by the `logs` advisory lock."""
    with _RECORDING:
        entries = read(directory)
        entries[entry.day] = entry
        document = {"manifest_version": VERSION, "table": TABLE,
                    "days": {day.isoformat(): entries[day].to_json() for day in sorted(entries)}}
        write_atomically(directory / NAME, (json.dumps(document, indent=1) + "\n").encode())


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}{PARTIAL}")
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    publish(temporary, path)


def publish(temporary: Path, path: Path) -> None:
    """Rename a complete, fsynced `temporary` to `path` and fsync the directory, so the rename survives
    a crash: readers see the old file or the whole new one, never a part."""
    os.replace(temporary, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def matches(directory: Path, entry: ManifestEntry, *, checksum: bool) -> bool:
    """Whether the entry's file is there with its recorded size (and, with `checksum`, its SHA-256)."""
    path = directory / entry.file
    try:
        if path.stat().st_size != entry.bytes:
            return False
    except FileNotFoundError:
        return False
    return not checksum or sha256(path) == entry.sha256


def verified_days(directory: Path) -> dict[date, ManifestEntry]:
    """The days of `directory`'s manifest whose file is present with the SHA-256 the manifest recorded:
    what a prune may delete (rows of the day, as many as `rows`). Days whose file is missing, cut short
    or changed are left out. Stable API: `logs prune --archive-to` calls it."""
    return {day: entry for day, entry in read(directory).items() if matches(directory, entry, checksum=True)}


def stale_partials(directory: Path) -> list[Path]:
    """Files a killed run left half-written (`.spendlogs-*.partial`, `.manifest.json.*.partial`)."""
    return sorted(p for p in directory.glob(f".*{PARTIAL}")
                  if p.name.startswith((f".{PREFIX}", f".{NAME}.")) and p.is_file())
