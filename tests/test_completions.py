"""The committed completion scripts match the command tree, and they complete."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from helpers import ROOT

from litellm_dbctl.cli import completions


@pytest.mark.parametrize("shell", sorted(completions.FILES))
def test_committed_scripts_are_current(shell: str) -> None:
    committed = (ROOT / "completions" / completions.FILES[shell]).read_text()
    assert committed == completions.generate(shell), (
        f"completions/{completions.FILES[shell]} is stale: run `python -m litellm_dbctl.cli.completions completions`"
    )


def test_every_command_path_is_completable() -> None:
    entries = completions.tree()
    assert "migrate deploy" in entries and "db embedded stop" in entries
    assert "deploy" in entries["migrate"] and "--dry-run" in entries["migrate deploy"]
    assert "--install-completion" not in " ".join(w for words in entries.values() for w in words)


def _bash_complete(*words: str) -> list[str]:
    script = (f"source {ROOT / 'completions' / 'dbctl.bash'}; COMP_WORDS=(dbctl {' '.join(repr(w) for w in words)}); "
              f"COMP_CWORD={len(words)}; _dbctl; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_nested_commands_and_options() -> None:
    assert _bash_complete("mig") == ["migrate"]
    assert "deploy" in _bash_complete("--json", "migrate", "")
    assert _bash_complete("migrate", "deploy", "--dry") == ["--dry-run"]
    assert _bash_complete("db", "embedded", "st") == ["status", "stop"]
