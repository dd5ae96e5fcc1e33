"""Helpers shared by the tests: database handles and running dbctl."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
invocations: list[list[str]] = []  # every `dbctl` argument list a test ran (tests/fix_commands.py reads them)


def database_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


@dataclass
class Database:
    url: str
    name: str = ""

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True, row_factory=dict_row, **kwargs)

    def query(self, text: str, params: Any = None) -> list[dict[str, Any]]:
        with self.connect() as conn:
            cur = conn.execute(text, params)
            return cur.fetchall() if cur.description else []

    def value(self, text: str, params: Any = None) -> Any:
        rows = self.query(text, params)
        return next(iter(rows[0].values())) if rows else None

    def execute(self, text: str, params: Any = None) -> None:
        with self.connect() as conn:
            conn.execute(text, params)

    def create(self, name: str, template: str | None = None) -> None:
        with self.connect() as conn:
            if template:
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
            else:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, stdout={self.stdout[-2000:]!r}, stderr={self.stderr[-2000:]!r})"


def invoke(args: list[str], *, input: str | None = None, env: dict[str, str] | None = None) -> CliResult:
    """Run dbctl in-process (as the console script does, global-option hoisting included)."""
    from litellm_dbctl.cli import app

    invocations.append(list(args))
    result = CliRunner().invoke(app, args, input=input, env=env, catch_exceptions=True, prog_name="dbctl")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)


def run_process(args: list[str], *, env: dict[str, str] | None = None, input: str | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m litellm_dbctl` in a child process (for concurrency and kill tests)."""
    invocations.append(list(args))
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for name in ("DATABASE_URL", "DIRECT_URL", "DBCTL_DATABASE_URL"):
        if env is None or name not in env:
            full_env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "litellm_dbctl", *args], capture_output=True, text=True,
                          env=full_env, input=input, timeout=timeout)


def killed_at(point: str, args: list[str], *, count: int = 1, seconds: float = 60,
              while_paused: Callable[[], None] | None = None) -> str:
    """Run `python -m litellm_dbctl ARGS` in a child that pauses `seconds` at each pass of the pause
    point POINT (DBCTL_TEST_PAUSE_<POINT>), and kill -9 it in its `count`-th pause, after calling
    `while_paused`: a run killed midway. Returns what the child printed on stdout."""
    invocations.append(list(args))
    child = subprocess.Popen([sys.executable, "-m", "litellm_dbctl", *args], stderr=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT), f"DBCTL_TEST_PAUSE_{point}": str(seconds)})
    assert child.stderr is not None
    try:
        paused = 0
        for line in child.stderr:
            if f"test pause {point}" in line:
                paused += 1
                if paused == count:
                    break
        else:
            raise AssertionError(f"the run reached {point} {paused} time(s), not {count}")
        if while_paused is not None:
            while_paused()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        stdout, _ = child.communicate()
    assert child.returncode == -signal.SIGKILL
    return stdout


def killed_after_commit(args: list[str], *, while_paused: Callable[[], None] | None = None) -> str:
    """`killed_at` right after the run's COMMIT (DBCTL_TEST_PAUSE_AFTER_COMMIT): the window in which work
    owed after a commit is lost unless it was recorded before."""
    return killed_at("AFTER_COMMIT", args, while_paused=while_paused)
