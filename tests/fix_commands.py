"""The quick suite (`-m "not slow"`) runs every dbctl command: checked at the end of a run of it.

The commands a test runs are recorded by tests/helpers.py (invoke, run_process, killed_after_commit);
a run that selected every test, or every test but the slow ones, fails when a command of the Typer
tree was run by no test outside the slow ones (`--help` does not count: it runs no command).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import helpers
import pytest

TESTS = Path(__file__).resolve().parent
covered: set[str] = set()
uncovered: list[str] = []


@cache
def tree() -> dict[tuple[str, ...], list[str]]:
    """Every command path of `dbctl` -> its subcommands (empty for a command that runs)."""
    from litellm_dbctl.cli import click, command

    root = command()
    ctx = click.Context(root)
    paths: dict[tuple[str, ...], list[str]] = {}

    def walk(cmd: click.Command, path: tuple[str, ...]) -> None:
        subs = getattr(cmd, "commands", None)
        names = (cmd.list_commands(ctx) if not path else list(subs)) if subs is not None else []
        paths[path] = names
        for name in names:
            sub = cmd.get_command(ctx, name)
            assert sub is not None, name
            walk(sub, (*path, name))

    walk(root, ())
    return paths


def command_of(args: list[str]) -> str | None:
    """The command `dbctl ARGS` runs ("migrate status"), None for help or a usage error."""
    from litellm_dbctl.cli import parse_global_options

    try:
        _, rest = parse_global_options(list(args))
    except Exception:
        return None
    if "-h" in rest or "--help" in rest:
        return None
    path: tuple[str, ...] = ()
    for token in rest:
        if token not in tree().get(path, []):
            break
        path = (*path, token)
    return " ".join(path) if path and not tree()[path] else None


def every_command() -> set[str]:
    return {" ".join(path) for path, subs in tree().items() if path and not subs}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    try:
        return (yield)
    finally:
        if item.get_closest_marker("slow") is None:
            covered.update(c for c in map(command_of, helpers.invocations) if c)
        helpers.invocations.clear()


def _whole_quick_suite(session: pytest.Session) -> bool:
    """This run selected every test of tests/, or every one but the slow ones."""
    config = session.config
    option = config.option
    return (not option.keyword and option.markexpr in ("", "not slow") and not option.deselect
            and not session.shouldstop and not session.shouldfail and session.testscollected > 0
            and all((config.invocation_params.dir / arg).resolve() == TESTS for arg in config.args))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """Under pytest-xdist, the controller gathers what each worker's tests ran."""
    covered.update(getattr(node, "workeroutput", {}).get("dbctl_commands", ()))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller checks the whole run
        workeroutput["dbctl_commands"] = sorted(covered)
        return
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) and _whole_quick_suite(session):
        uncovered[:] = sorted(every_command() - covered)
        if uncovered:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if uncovered:
        terminalreporter.write_line(
            f"FAILED: no test outside the slow ones runs {', '.join(f'`dbctl {c}`' for c in uncovered)} "
            "(tests/fix_commands.py): give each a quick test", red=True)
