"""The committed completion scripts match the command tree, and they complete."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import ROOT, invoke, run_process

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
    assert _bash_complete("completions", "install", "--sh") == ["--shell"]
    assert "--version" in _bash_complete("migrate", "status", "--")


@pytest.mark.parametrize("shell", sorted(completions.FILES))
def test_install_print_is_the_shipped_script(shell: str) -> None:
    result = invoke(["completions", "install", "--shell", shell, "--print"])
    assert result.code == 0
    assert result.stdout == (ROOT / "completions" / completions.FILES[shell]).read_text()


@pytest.mark.parametrize(("shell", "where"), [
    ("bash", ".local/share/bash-completion/completions/dbctl"),
    ("zsh", ".zfunc/_dbctl"),
    ("fish", ".config/fish/completions/dbctl.fish"),
])
def test_install_writes_to_the_users_completion_directory(tmp_path: Path, shell: str, where: str) -> None:
    env = {"HOME": str(tmp_path), "SHELL": f"/bin/{shell}", "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": ""}
    result = run_process(["completions", "install"], env=env)  # a child process: Path.home() reads HOME
    assert result.returncode == 0, result.stderr
    written = tmp_path / where
    assert written.read_text() == (ROOT / "completions" / completions.FILES[shell]).read_text()
    assert f"wrote {written}" in result.stdout
    if shell == "zsh":
        assert "fpath=(~/.zfunc $fpath)" in result.stdout


def test_install_honours_xdg_directories(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    result = run_process(["--json", "completions", "install", "--shell", "fish"], env=env)
    path = tmp_path / "config" / "fish" / "completions" / "dbctl.fish"
    assert result.returncode == 0 and json.loads(result.stdout) == {"shell": "fish", "path": str(path)}
    assert path.is_file()


def test_install_needs_a_known_shell() -> None:
    result = invoke(["completions", "install"], env={"SHELL": "/bin/tcsh"})
    assert result.code == 2 and "--shell bash, zsh or fish" in result.stderr
    result = invoke(["completions", "install", "--shell", "csh", "--print"])
    assert result.code == 2 and "unknown shell 'csh'" in result.stderr and result.stdout == ""


def test_install_help_has_an_example() -> None:
    result = invoke(["completions", "install", "--help"])
    assert result.code == 0 and "dbctl completions install --shell zsh" in result.stdout


def test_the_wheel_force_includes_the_scripts_where_shipped_looks() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"completions" = "litellm_dbctl/completions"' in pyproject
    assert completions.shipped("bash") == ROOT / "completions" / "dbctl.bash"  # a checkout: the committed file
