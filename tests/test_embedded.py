"""The embedded server: first start, reuse, stop, two processes starting at once, and when it is used
(only when chosen, or with a person at a terminal)."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import ROOT, invoke, run_process

from litellm_dbctl.db import embedded


@pytest.fixture(scope="module")
def embedded_dir():
    # Not pytest's tmp_path: its numbered directories are pruned by concurrent pytest runs.
    base = Path(tempfile.mkdtemp(prefix="dbctl-embedded-test-"))
    yield base / "pg"
    embedded.stop(base / "pg")
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_lifecycle_first_start_reuse_stop(embedded_dir) -> None:
    env = {"DBCTL_EMBEDDED_DIR": str(embedded_dir)}
    status = json.loads(run_process(["db", "embedded", "status", "--json"], env=env).stdout)
    assert status == {**status, "running": False, "initialized": False}

    # Two processes start at once: one server, both connected to it, the data directory intact.
    def start(_: int) -> subprocess.CompletedProcess[str]:
        return run_process(["--embedded", "db", "status", "--json"], env=env)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(start, range(2)))
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "using the embedded PostgreSQL" in result.stderr
        assert json.loads(result.stdout)["connected_to"] == f"embedded at {embedded_dir}"
    server = embedded.running(embedded_dir)
    assert server is not None
    postmasters = subprocess.run(["pgrep", "-f", f"postgres -D {embedded_dir}/data"], capture_output=True, text=True)
    assert len(postmasters.stdout.split()) == 1
    assert not list(embedded_dir.glob("data.init-*"))

    # Reuse: the next command finds it running and starts nothing.
    again = run_process(["db", "embedded", "url"], env=env)
    assert again.stdout.strip() == server.url
    assert embedded.running(embedded_dir).pid == server.pid

    stop = run_process(["db", "embedded", "stop"], env=env)
    assert stop.returncode == 0 and "stopped" in stop.stderr
    assert embedded.running(embedded_dir) is None
    assert json.loads(run_process(["db", "embedded", "status", "--json"], env=env).stdout)["initialized"] is True

    # Restart after stop keeps the data.
    assert run_process(["db", "status"], env={**env, "DBCTL_DATABASE_URL": "embedded"}).returncode == 0
    assert embedded.running(embedded_dir) is not None


def test_quiet_silences_the_embedded_notice(embedded_dir) -> None:
    result = run_process(["-q", "--embedded", "db", "status"], env={"DBCTL_EMBEDDED_DIR": str(embedded_dir)})
    assert (result.returncode, result.stderr) == (0, "") and "embedded" in result.stdout  # the data asked for


def test_embedded_status_stop_and_url(embedded_dir, tmp_path) -> None:
    """The three `db embedded` commands in the quick suite (the lifecycle test above is slow)."""
    fresh = {"DBCTL_EMBEDDED_DIR": str(tmp_path / "pg")}
    status = invoke(["db", "embedded", "status", "--json"], env=fresh)
    assert status.code == 0 and status.json() == {**status.json(), "running": False, "initialized": False}
    stop = invoke(["db", "embedded", "stop"], env=fresh)
    assert stop.code == 0 and "was not running" in stop.stderr, stop
    url = invoke(["db", "embedded", "url"], env={"DBCTL_EMBEDDED_DIR": str(embedded_dir)})
    server = embedded.running(embedded_dir)
    assert url.code == 0 and server is not None and url.stdout.strip() == server.url, url


def test_data_dir_defaults_to_the_per_user_directory(tmp_path) -> None:
    assert embedded.data_dir({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "litellm-dbctl" / "embedded"
    assert embedded.data_dir({"DBCTL_EMBEDDED_DIR": str(tmp_path / "x")}) == tmp_path / "x"


# -- which database: the embedded server only when chosen, or with a person at a terminal --------


def run_at_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """dbctl with stdin and stderr on a pseudo-terminal (a person at a terminal); stdout piped."""
    master, slave = pty.openpty()
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    for name in ("DATABASE_URL", "DIRECT_URL", "DBCTL_DATABASE_URL"):
        if name not in env:
            full_env.pop(name, None)
    process = subprocess.Popen([sys.executable, "-m", "litellm_dbctl", *args], stdin=slave, stderr=slave,
                               stdout=subprocess.PIPE, env=full_env, text=True)
    os.close(slave)
    terminal = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            terminal += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    stdout = process.stdout.read() if process.stdout else ""
    return process.wait(timeout=60), stdout, terminal.decode().replace("\r\n", "\n")


NO_DATABASE = "dbctl: error: no database configured: set DATABASE_URL or --database-url (or --embedded)\n"


@pytest.mark.parametrize("args", [["migrate", "deploy"], ["-q", "budget", "sync"], ["-q", "daily", "reconcile"],
                                  ["db", "status"], ["key", "list"]])
def test_no_database_configured_is_exit_2_and_starts_nothing(tmp_path, args) -> None:
    result = invoke(args, env={"DBCTL_EMBEDDED_DIR": str(tmp_path / "pg")})
    assert (result.code, result.stdout, result.stderr) == (2, "", NO_DATABASE)
    assert not (tmp_path / "pg").exists()


def test_no_database_configured_in_a_child_process(tmp_path) -> None:
    result = run_process(["migrate", "deploy"], env={"DBCTL_EMBEDDED_DIR": str(tmp_path / "pg")})
    assert (result.returncode, result.stdout, result.stderr) == (2, "", NO_DATABASE)
    assert not (tmp_path / "pg").exists()


@pytest.mark.parametrize(("env", "args", "named"), [
    ({"DATABASE_URL": ""}, [], "DATABASE_URL is set but empty"),
    ({"DATABASE_URL": "  "}, [], "DATABASE_URL is set but empty"),
    ({"DBCTL_DATABASE_URL": "", "DATABASE_URL": "postgresql://u@h/d"}, [], "DBCTL_DATABASE_URL is set but empty"),
    ({}, ["--database-url", ""], "--database-url is empty"),
    ({}, ["--database-url=postgresql://u@h/d", "--embedded"], "--database-url and --embedded: give one"),
])
def test_an_empty_setting_is_an_error_naming_it(tmp_path, env, args, named) -> None:
    result = invoke([*args, "-q", "budget", "sync"], env={**env, "DBCTL_EMBEDDED_DIR": str(tmp_path / "pg")})
    assert result.code == 2 and result.stderr.startswith(f"dbctl: error: {named}"), result
    assert not (tmp_path / "pg").exists()


@pytest.mark.parametrize(("args", "env", "why"), [
    (["--embedded"], {}, "(--embedded)"),
    ([], {"DBCTL_DATABASE_URL": "embedded"}, "(DBCTL_DATABASE_URL=embedded)"),
    ([], {"DBCTL_DATABASE_URL": "embedded", "DATABASE_URL": "postgresql://u@nowhere.invalid/d"},
     "(DBCTL_DATABASE_URL=embedded)"),
])
def test_the_embedded_server_when_chosen_is_said_every_time(embedded_dir, args, env, why) -> None:
    env = {**env, "DBCTL_EMBEDDED_DIR": str(embedded_dir)}
    embedded.ensure_running(embedded_dir)  # started, whichever test of the module ran first ("started" then)
    for _ in range(2):  # every run says it, not only the first one of a process
        result = invoke([*args, "db", "status", "--json"], env=env)
        assert result.code == 0, result
        assert result.stderr == f"dbctl: using the embedded PostgreSQL in {embedded_dir} {why}\n"
        assert result.json()["connected_to"] == f"embedded at {embedded_dir}"


@pytest.mark.slow
def test_at_a_terminal_the_embedded_server_is_the_fallback_and_said(embedded_dir) -> None:
    env = {"DBCTL_EMBEDDED_DIR": str(embedded_dir)}
    code, stdout, terminal = run_at_terminal(["db", "status", "--json"], env)
    assert code == 0, terminal
    assert f"dbctl: using the embedded PostgreSQL in {embedded_dir} (no database configured" in terminal
    assert json.loads(stdout)["connected_to"] == f"embedded at {embedded_dir}"
    # -q at a terminal: no one reads the notice, so no fallback either.
    code, stdout, terminal = run_at_terminal(["-q", "db", "status"], env)
    assert (code, stdout, terminal) == (2, "", NO_DATABASE)


@pytest.mark.slow
def test_hints_never_say_deploy_into_the_fallback_server(embedded_dir) -> None:
    # The embedded server's `postgres` database has no LiteLLM schema: exit 6, whose usual hint is
    # "run `dbctl migrate deploy`".
    env = {"DBCTL_EMBEDDED_DIR": str(embedded_dir)}
    code, _, terminal = run_at_terminal(["budget", "status"], env)
    assert code == 6, terminal
    assert "migrate deploy" not in terminal
    assert "dbctl: hint: this is dbctl's embedded server, used because no database is configured" in terminal
    chosen = invoke(["--embedded", "budget", "status"], env=env)
    assert chosen.code == 6 and "`dbctl --embedded migrate deploy`" in chosen.stderr, chosen
