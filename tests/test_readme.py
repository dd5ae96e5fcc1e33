"""The README's walkthrough runs as written (issue 18): its commands in order on a fresh database,
with the spec and budgets files exactly as the README shows them; every command succeeds, and a
second pass of the whole sequence changes no row (so the two files do not fight over a field).

The README marks what this test uses with HTML comments, invisible when rendered:
`<!-- readme-test: run -->` before a shell block whose `dbctl` lines run in order (`&&` chains
each part), and `<!-- readme-test: file NAME -->` before a block written to NAME.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from helpers import ROOT, Database, invoke

MARKER = re.compile(r"<!-- readme-test: (run|file (\S+)) -->\n```[a-z]*\n(.*?)```", re.S)
# Columns a command rewrites with the same values (block then unblock stamps updated_at): the rows are
# what the second pass must leave alone, not the clock.
VOLATILE = ("updated_at", "updatedAt")


def walkthrough() -> tuple[list[list[str]], dict[str, str]]:
    """The README's marked commands (argv lists, in order) and files (name -> text)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands: list[list[str]] = []
    files: dict[str, str] = {}
    for _kind, name, body in MARKER.findall(readme):
        if name:
            files[name] = body
            continue
        for line in body.splitlines():
            for part in line.split("&&"):
                argv = shlex.split(part, comments=True)
                if argv:
                    commands.append(argv)
    return commands, files


def test_the_readme_marks_a_walkthrough_and_its_files() -> None:
    commands, files = walkthrough()
    assert set(files) == {"spec.yaml", "budgets.yaml"}
    assert all(argv[0] == "dbctl" for argv in commands), commands
    groups = [argv[1] for argv in commands]
    for group in ("migrate", "provision", "key", "budget", "spend", "daily", "db"):
        assert group in groups, f"the walkthrough runs no `dbctl {group}` command"


def fingerprint(db: Database) -> dict[str, str]:
    """Every LiteLLM table's rows (volatile stamps left out) as one digest per table; the audit log
    is left out, since each run of a changing command appends to it by design."""
    tables = [r["relname"] for r in db.query(
        "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace "
        "AND relname LIKE 'LiteLLM%' AND relname <> 'LiteLLM_AuditLog' ORDER BY relname")]
    drop = " ".join(f"- '{column}'" for column in VOLATILE)
    return {table: db.value(f'SELECT md5(coalesce(string_agg(r, \'|\' ORDER BY r), \'\')) FROM '
                            f'(SELECT (to_jsonb(t) {drop})::text AS r FROM "{table}" t) rows') for table in tables}


@pytest.mark.slow
def test_the_walkthrough_runs_in_sequence_and_converges(empty_db: Database, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    commands, files = walkthrough()
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": empty_db.url}
    after: list[dict[str, str]] = []
    for attempt in ("first", "second"):
        for argv in commands:
            result = invoke(argv[1:], env=env)
            assert result.code == 0, f"{attempt} pass: {shlex.join(argv)} -> {result!r}"
        after.append(fingerprint(empty_db))
    assert after[0]["LiteLLM_TeamTable"] != fingerprint_of_nothing()
    changed = sorted(table for table in after[0] if after[0][table] != after[1].get(table))
    assert not changed, f"the second pass changed rows of {changed}"


def fingerprint_of_nothing() -> str:
    import hashlib

    return hashlib.md5(b"").hexdigest()


def test_no_file_the_walkthrough_reads_is_missing() -> None:
    commands, files = walkthrough()
    read = {arg for argv in commands for arg in argv if arg.endswith((".yaml", ".yml", ".json", ".csv"))}
    assert read <= set(files), f"the walkthrough reads {sorted(read - set(files))}, which the README does not mark"
