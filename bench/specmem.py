"""Benchmark: peak memory (RSS) and time of `dbctl provision validate` and `provision apply --dry-run`
on a ~50 MB spec (620,000 users, one team membership each: bench/provision.py's shape).

Target (issue 17): validating a 50 MB spec stays under 500 MB. Each command runs as a child
process on a freshly migrated database; its peak RSS is the kernel's (getrusage of the child).

    python bench/specmem.py [--users 620000] [--dry-run] [--existing] [--server postgresql://postgres@127.0.0.1/postgres]

--existing applies the spec first (not measured), so that every user, and the team's 620,000-member
roster, are in the database: re-validating an applied spec.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from helpers import Database, database_url
from provision import spec_text

from litellm_dbctl.db import config
from litellm_dbctl.migrate.deploy import deploy
from litellm_dbctl.migrate.source import load_source

TARGET_MB = 500


def measured(url: str, *args: str) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of one dbctl command in a child process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("DATABASE_URL", "DBCTL_DATABASE_URL", "DIRECT_URL", "REDIS_URL"):
        env.pop(name, None)
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "litellm_dbctl", "--database-url", url, *args],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, child.returncode  # ru_maxrss: kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=620_000)
    parser.add_argument("--dry-run", action="store_true", help="also measure provision apply --dry-run")
    parser.add_argument("--existing", action="store_true", help="apply the spec first: its users exist")
    parser.add_argument("--server", default=os.environ.get("DBCTL_TEST_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1/postgres"))
    options = parser.parse_args()
    admin = Database(options.server)
    name = f"dbctl_bench_mem_{uuid.uuid4().hex[:8]}"
    admin.create(name)
    try:
        url = database_url(options.server, name)
        deploy(config.parse(url, "bench"), load_source())
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "spec.yaml"
            path.write_text(spec_text(options.users))
            size = path.stat().st_size / 1e6
            print(f"{options.users} users, {size:.1f} MB spec")
            if options.existing:
                seconds, peak, code = measured(url, "provision", "apply", str(path), "-q")
                if code != 0:
                    raise SystemExit(f"provision apply exited {code}")
                print(f"{'(applied first)':<28} peak RSS {peak:7.0f} MB  {seconds:6.1f} s")
            commands = [("provision validate", ("provision", "validate", str(path)), 0)]
            if options.dry_run:
                commands.append(("provision apply --dry-run", ("provision", "apply", str(path), "--dry-run", "-q"), 3))
            for label, args, ok in commands:
                seconds, peak, code = measured(url, *args)
                if code != ok:
                    raise SystemExit(f"{label} exited {code}")
                print(f"{label:<28} peak RSS {peak:7.0f} MB  {peak / TARGET_MB:5.2f}x the {TARGET_MB} MB target  "
                      f"{seconds:6.1f} s")
    finally:
        admin.drop(name)


if __name__ == "__main__":
    main()
