"""`spend ingest`'s pass over its input (spend.spool): no database. The spool a run writes is the same
whatever the number of worker processes and however the input is cut into blocks; every bad record
is named by its file and line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from litellm_dbctl.spend import payloads, spool

PAYLOADS = Path(__file__).parent / "data" / "ingest" / "payloads.jsonl"


def mixed_input(directory: Path) -> list[Path]:
    """JSON lines with blank lines, a repeat and bad records, plus .json objects and an array."""
    records = PAYLOADS.read_text().splitlines()
    bad = json.loads(records[0])
    bad["id"], bad["total_tokens"] = "bad-tokens", 2**40
    lines = [records[0], "", records[1], "{oops", records[0], json.dumps(bad), *records[2:], "   "]
    (directory / "a.jsonl").write_text("\n".join(lines * 3) + "\n")
    (directory / "b.json").write_text(records[3])
    (directory / "c.json").write_text("[" + ",".join(records[4:]) + "]")
    (directory / "d.json").write_text("[1,")
    return spool.input_files(directory)


def spooled_bytes(files: list[Path], jobs: int, batch_size: int) -> tuple[bytes, list[int], list[str], int]:
    with spool.spooled(files, "standard", batch_size, outbox=False, skip_bad=True, jobs=jobs, label=str) as s:
        data = s.path.read_bytes()
        return data, [rows for _offset, rows in s.chunks], [str(b) for b in s.bad], s.repeated


@pytest.mark.parametrize("block_lines", [1, 2, 7, 1000])
def test_the_spool_is_the_same_whatever_the_blocks_and_the_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    block_lines: int) -> None:
    files = mixed_input(tmp_path)
    expected = spooled_bytes(files, jobs=1, batch_size=4)
    monkeypatch.setattr(spool, "BLOCK_LINES", block_lines)
    monkeypatch.setattr(spool, "BLOCK_FILES", max(1, block_lines // 2))
    assert spooled_bytes(files, jobs=1, batch_size=4) == expected
    if block_lines == 2:  # spawning workers costs ~0.5 s: once is enough to compare
        assert spooled_bytes(files, jobs=2, batch_size=4) == expected


def test_bad_records_are_named_by_file_and_line_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool, "BLOCK_LINES", 2)
    files = mixed_input(tmp_path)
    _data, chunks, bad, repeated = spooled_bytes(files, jobs=1, batch_size=4)
    a, d = tmp_path / "a.jsonl", tmp_path / "d.json"
    records = len(PAYLOADS.read_text().splitlines())
    copy = 6 + (records - 2) + 1  # the lines of one copy of a.jsonl's pattern
    assert [b.split(": ")[0] for b in bad] == [
        *[f"{a}:{line + n * copy}" for n in range(3) for line in (4, 6)], f"{d}:1"]
    assert bad[0] == f"{a}:4: record: not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    assert bad[1] == f"{a}:6: total_tokens: out of range for an integer column: {2**40}"
    # every good record is spooled once, or left out as a repeat within its chunk
    good = 3 * (3 + records - 2) + 1 + (records - 4)
    assert sum(chunks) + repeated == good


def test_stdin_is_json_lines_named_stdin() -> None:
    records = PAYLOADS.read_text().splitlines()
    stream = io.BytesIO(("\n".join([records[0], "", "[1]", records[1]]) + "\n").encode())
    with spool.spooled([stream], "standard", 10, outbox=False, skip_bad=True, jobs=1) as s:
        assert [str(b) for b in s.bad] == ["<stdin>:3: record: expected a JSON object, got a list"]
        assert s.read == 3 and s.rows == 2


def test_a_line_is_the_copy_text_of_the_staged_columns() -> None:
    row = payloads.row(json.loads(PAYLOADS.read_text().splitlines()[0]), "standard")
    row["model"] = "tab\there\\back\nline"
    cells = spool.line(row, outbox=False).decode().rstrip("\n").split("\t")
    assert len(cells) == len(payloads.COLUMNS) + 2 and cells[-2:] == ["\\N", "\\N"]
    assert cells[payloads.COLUMNS.index("model")] == "tab\\there\\\\back\\nline"
    assert cells[payloads.COLUMNS.index("request_id")] == row["request_id"]
