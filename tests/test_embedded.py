"""The embedded default: first start, reuse, stop, and two processes starting at once."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import run_process

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
        return run_process(["db", "status", "--json"], env=env)

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
    assert run_process(["db", "status"], env=env).returncode == 0
    assert embedded.running(embedded_dir) is not None


def test_quiet_silences_the_embedded_notice(embedded_dir) -> None:
    result = run_process(["-q", "db", "status"], env={"DBCTL_EMBEDDED_DIR": str(embedded_dir)})
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_data_dir_defaults_to_the_per_user_directory(tmp_path) -> None:
    assert embedded.data_dir({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "litellm-dbctl" / "embedded"
    assert embedded.data_dir({"DBCTL_EMBEDDED_DIR": str(tmp_path / "x")}) == tmp_path / "x"
