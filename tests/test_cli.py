"""The command tree: help, version, global options, exit codes, errors without tracebacks or secrets."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from helpers import ROOT, invoke, run_process

from litellm_dbctl.common.errors import ExitCode


def all_commands():
    """Every leaf command path, e.g. ("migrate", "deploy"), walking the real Click tree."""
    from litellm_dbctl.cli import GROUPS, LazyGroup, command

    root = command()
    ctx = root.make_context("dbctl", ["--help"], resilient_parsing=True)
    paths = []

    def walk(cmd, path):
        subcommands = getattr(cmd, "commands", None)
        if isinstance(cmd, LazyGroup):
            names = cmd.list_commands(ctx)
            children = {name: cmd.get_command(ctx, name) for name in names}
        elif subcommands is not None:
            children = subcommands
        else:
            paths.append((path, cmd))
            return
        for name, child in children.items():
            walk(child, (*path, name))

    walk(root, ())
    assert GROUPS  # sanity
    return paths


def test_version_is_fast_path_and_typer_path() -> None:
    from litellm_dbctl import __version__

    assert run_process(["--version"]).stdout.strip() == f"dbctl {__version__}"
    assert invoke(["--version"]).stdout.strip() == f"dbctl {__version__}"


@pytest.mark.parametrize("args", [["migrate", "status", "--version"], ["db", "-V"], ["--json", "key", "list", "-V"],
                                  ["-V", "spend"]])
def test_version_anywhere_on_the_line(args: list[str]) -> None:
    from litellm_dbctl import __version__

    result = invoke(args)
    assert (result.code, result.stdout.strip(), result.stderr) == (0, f"dbctl {__version__}", "")


def test_version_after_a_subcommand_in_a_process() -> None:
    from litellm_dbctl import __version__

    result = run_process(["migrate", "status", "--version"])
    assert (result.returncode, result.stdout.strip()) == (0, f"dbctl {__version__}")


def test_version_after_double_dash_is_an_argument() -> None:
    result = invoke(["key", "list", "--", "--version"])
    assert result.code == 2 and "dbctl 0" not in result.stdout


def test_help_lists_only_groups_that_exist() -> None:
    from importlib.util import find_spec

    from litellm_dbctl.cli import GROUPS

    result = invoke(["--help"])
    assert result.code == 0
    for name, (module, _) in GROUPS.items():
        listed = re.search(rf"^\s+{name}\s", result.stdout, re.M) is not None
        assert listed == (find_spec(module) is not None), name


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys; from litellm_dbctl.__main__ import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('psycopg', 'sqlglot', 'rich.table', 'rich.console', 'yaml') if m in sys.modules]\n"
            "print('HEAVY=' + ','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY="


TYPER_PROBE = """
import sys, typer
app = typer.Typer(add_completion=False)
@app.callback()
def root(url: str = typer.Option("", "--database-url")) -> None: pass
@app.command()
def status() -> None: pass
try:
    app(["--database-url", "x", "status"])
except SystemExit:
    pass
print(typer.__version__, "pydantic" in sys.modules)
"""
DBCTL_PROBE = """
import sys
from litellm_dbctl.__main__ import main
try:
    main(["--json", "-v", "--database-url", "postgresql://x@127.0.0.1:1/x", "db", "status", "--help"])
except SystemExit:
    pass
print("pydantic" in sys.modules)
"""


def test_the_start_up_workaround_for_typer_still_has_its_reason() -> None:
    """Global options are parsed by hand and --help gets a False default (cli/__init__.py,
    parse_global_options and _help_option_without_coercion), and pyproject pins typer below 0.29,
    because Typer 0.29 coerces every non-bool option value through pydantic (+0.1-0.3 s a run).
    A Typer that does so must still leave pydantic out of dbctl's global options and --help; a
    Typer from 0.29 on that no longer does means the workaround and the pin can go."""
    out = subprocess.run([sys.executable, "-c", TYPER_PROBE], capture_output=True, text=True, cwd=ROOT, check=True)
    version, coerces = out.stdout.split()[-2:]
    if coerces == "True":
        out = subprocess.run([sys.executable, "-c", DBCTL_PROBE], capture_output=True, text=True, cwd=ROOT, check=True)
        assert out.stdout.split()[-1] == "False", "dbctl's global options or --help import pydantic again"
    else:
        released = tuple(int(p) for p in re.findall(r"\d+", version)[:2])
        assert released < (0, 29), (
            f"Typer {version} no longer imports pydantic to parse an option: the start-up workaround can go "
            "(declare the global options on the root callback again, drop _help_option_without_coercion, "
            "lift the typer pin in pyproject.toml) and this test with it")


@pytest.mark.parametrize(("path", "cmd"), all_commands(), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_has_help_and_a_readme_entry(path, cmd) -> None:
    assert (cmd.help or "").strip(), f"dbctl {' '.join(path)} has no help text"
    result = invoke([*path, "--help"])
    assert result.code == 0, result
    readme = (ROOT / "README.md").read_text()
    assert f"dbctl {' '.join(path)}" in readme, f"README has no entry for dbctl {' '.join(path)}"


def test_global_options_work_after_the_subcommand(cli) -> None:
    before = cli("--json", "migrate", "status")
    after = cli("migrate", "status", "--json")
    assert before.code == after.code == 0
    assert before.json()["summary"] == after.json()["summary"]


def test_quiet_prints_nothing_on_success(cli) -> None:
    result = cli("migrate", "status", "-q")
    assert (result.code, result.stdout, result.stderr) == (0, "", "")


def test_bad_output_format_is_a_usage_error() -> None:
    assert invoke(["--output", "xml", "db", "status"]).code == ExitCode.USAGE


def test_unreachable_server_names_host_port_and_never_the_password() -> None:
    result = run_process(["--database-url", "postgresql://admin:S3cretPassw0rd@127.0.0.1:1/litellm", "-v", "db", "status"])
    assert result.returncode == ExitCode.ERROR
    assert "127.0.0.1:1" in result.stderr
    assert "S3cretPassw0rd" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr.split("dbctl: error:")[-1]
    assert result.stderr.count("dbctl: error:") == 1


def test_malformed_url_is_exit_2_with_one_line() -> None:
    result = run_process(["--database-url", "postgresql://u:hunter22@h:99999/db", "db", "status"])
    assert result.returncode == ExitCode.USAGE
    assert "hunter22" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("dbctl: error:")] == \
        [line for line in result.stderr.splitlines() if line.strip()]


def test_database_url_from_litellm_environment(db) -> None:
    url = db.url + ("&" if "?" in db.url else "?") + "schema=public&connection_limit=3&pool_timeout=20"
    result = run_process(["db", "status", "--json"], env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    payload = __import__("json").loads(result.stdout)
    assert payload["source"] == "DATABASE_URL" and payload["schema"] == "public"
    assert payload["ledger"]["pending"] == 0


def test_db_doctor_reports_missing_request_log_indexes(cli) -> None:
    result = cli("db", "doctor", "--json")
    assert result.code == ExitCode.PENDING  # a failed check: 3; 1 is for a doctor that cannot run
    checks = {c["name"]: c for c in result.json()["checks"]}
    assert checks["reachable"]["ok"] and checks["migrations"]["ok"] and checks["invalid indexes"]["ok"]
    assert not checks["index LiteLLM_SpendLogs_api_key_startTime_idx"]["ok"]
    assert "dbctl migrate indexes" in checks["index LiteLLM_SpendLogs_api_key_startTime_idx"]["hint"]


def test_db_doctor_passes_when_the_indexes_exist(cli, db) -> None:
    db.execute('CREATE INDEX "LiteLLM_SpendLogs_api_key_startTime_idx" ON "LiteLLM_SpendLogs" ("api_key", "startTime")')
    db.execute('CREATE INDEX other_name ON "LiteLLM_SpendLogs" ("litellm_call_id")')  # equivalent index counts
    result = cli("db", "doctor")
    assert result.code == 0, result


def test_db_doctor_finds_a_failed_migration_and_an_invalid_index(cli, db) -> None:
    db.execute("INSERT INTO _prisma_migrations (id, checksum, migration_name, logs) VALUES ('x', 'y', 'z_failed', 'boom')")
    db.execute('CREATE INDEX bad_idx ON "LiteLLM_UserTable" (user_id)')
    db.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'bad_idx'::regclass")
    checks = {c["name"]: c for c in cli("db", "doctor", "--json").json()["checks"]}
    assert not checks["migrations"]["ok"] and "z_failed" in checks["migrations"]["result"]
    assert not checks["invalid indexes"]["ok"] and "bad_idx" in checks["invalid indexes"]["result"]


def test_the_process_hands_over_all_its_output_and_its_exit_code() -> None:
    """dbctl ends its process with os._exit after flushing: nothing buffered may be lost."""
    listed = run_process(["queries", "list", "--json"])
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) > 100  # ~60 kB, more than one buffer
    bad = run_process(["spend", "top", "--by", "nothing"])
    assert bad.returncode == ExitCode.USAGE and bad.stderr.strip()
    piped = subprocess.run(f"{sys.executable} -m litellm_dbctl queries list --output csv | head -1", shell=True,
                           capture_output=True, text=True, cwd=ROOT)
    assert piped.stdout == "name,mode,requires,description\n" and "Traceback" not in piped.stderr


def test_the_quick_suite_check_knows_every_command_and_reads_lines_as_dbctl_does() -> None:
    """tests/fix_commands.py fails a `-m "not slow"` run that leaves a command out: its tree is the
    real one, and it reads global options anywhere and does not count --help as running a command."""
    from fix_commands import command_of, every_command

    assert every_command() == {" ".join(path) for path, _ in all_commands()}
    assert command_of(["--database-url", "postgresql://h/d", "migrate", "status", "--json"]) == "migrate status"
    assert command_of(["-q", "db", "embedded", "url", "-v"]) == "db embedded url"
    assert command_of(["migrate", "status", "--help"]) is None
    assert command_of(["migrate"]) is None
    assert command_of(["--output"]) is None  # a usage error runs nothing
