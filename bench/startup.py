"""Start-up cost of dbctl against a bare Typer app, measured in the same run (issue 2's targets).

    python bench/startup.py [--runs 15]

Targets: `dbctl --help` and `dbctl --version` at most 1.25x the same commands of a bare Typer app
with one command group (median of paired runs); a second `dbctl db status` on the embedded default
(server already running) at most 3x dbctl's `--help`.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_APP = '''
import typer
app = typer.Typer()
group = typer.Typer()
app.add_typer(group, name="group")

def version(value: bool):
    if value:
        print("bare 1.0")
        raise typer.Exit()

@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=version, is_eager=True)):
    """A bare Typer app with one command group."""

@group.command()
def hello(name: str = "world"):
    """Say hello."""
    print(name)

if __name__ == "__main__":
    app()
'''


def wall(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def paired(a: list[str], b: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    wall(a, env), wall(b, env)  # warm the file cache
    first, second = [], []
    for _ in range(runs):
        first.append(wall(a, env))
        second.append(wall(b, env))
    return statistics.median(first), statistics.median(second)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    compileall.compile_dir(ROOT / "litellm_dbctl", quiet=1)  # run as installed: with bytecode
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("DATABASE_URL", "DBCTL_DATABASE_URL", "DIRECT_URL"):
        env.pop(name, None)
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_APP)
        env["DBCTL_EMBEDDED_DIR"] = os.environ.get("DBCTL_EMBEDDED_DIR", str(Path(tmp) / "embedded"))
        dbctl = [sys.executable, "-m", "litellm_dbctl"]
        results = []
        for flag in ("--help", "--version"):
            ours, base = paired([*dbctl, flag], [sys.executable, str(bare), flag], options.runs, env)
            results.append((f"dbctl {flag} / bare Typer {flag}", ours, base, 1.25))
        subprocess.run([*dbctl, "-q", "--embedded", "db", "status"], env=env, check=True)  # first start (initdb) not timed
        status, help_ = paired([*dbctl, "--embedded", "db", "status"], [*dbctl, "--help"], options.runs, env)
        results.append(("dbctl db status (embedded, running) / dbctl --help", status, help_, 3.0))
        if "DBCTL_EMBEDDED_DIR" not in os.environ:
            subprocess.run([*dbctl, "--embedded", "db", "embedded", "stop"], env=env, check=False)
    print(f"{'measure':58} {'ours ms':>8} {'base ms':>8} {'ratio':>6} {'target':>7}")
    failed = False
    for label, ours, base, target in results:
        ratio = ours / base
        failed |= ratio > target
        print(f"{label:58} {ours * 1000:8.1f} {base * 1000:8.1f} {ratio:6.2f} {'<= ' + str(target):>7}"
              f"{'' if ratio <= target else '  MISSED'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
