"""The `dbctl` command tree: Typer only, a thin projection of the library.

Command groups are imported only when invoked, and their modules import psycopg, sqlglot and rich
only inside command bodies, so `dbctl --help` stays as fast as a bare Typer app. Global options may
be given anywhere on the line (`dbctl migrate status --json`): they are moved in front before
parsing. User-facing errors become one line on stderr and the exit code of `errors.ExitCode`.
"""

from __future__ import annotations

import importlib
import logging
import sys
import types
from dataclasses import dataclass
from importlib.util import find_spec
from typing import Any, Optional

import typer
from typer.core import TyperGroup

try:
    from typer import _click as click  # Typer >= 0.24 vendors Click; this is the object it raises
except ImportError:  # older Typer (Python 3.10) depends on Click itself
    # mypy reads both branches: where Typer vendors Click, Click itself may not be installed.
    import click  # type: ignore[no-redef,import-not-found,unused-ignore]

from litellm_dbctl import __version__
from litellm_dbctl.common.errors import DbctlError, ExitCode

# name -> (module, one-line help). A group whose module is not there is not listed.
GROUPS: dict[str, tuple[str, str]] = {
    "db": ("litellm_dbctl.cli.db", "Where dbctl connects, server health, and the embedded server."),
    "queries": ("litellm_dbctl.cli.queries", "The named SQL statements dbctl runs: list, show, check."),
    "migrate": ("litellm_dbctl.cli.migrate", "Apply LiteLLM's migrations with no Node or Prisma; status, resolve, lint."),
    "user": ("litellm_dbctl.cli.user", "Provision, list and show LiteLLM users."),
    "team": ("litellm_dbctl.cli.team", "Provision teams and their members."),
    "org": ("litellm_dbctl.cli.org", "Provision organizations and their members."),
    "key": ("litellm_dbctl.cli.key", "Create, list, block and delete virtual keys."),
    "provision": ("litellm_dbctl.cli.provision", "Apply one spec file of organizations, teams, users and keys."),
    "budget": ("litellm_dbctl.cli.budget", "Keep budgets right: resets, declared limits, counter repair, status."),
    "spend": ("litellm_dbctl.cli.spend", "Who spent what: summaries, top spenders, daily series, logs, exports."),
    "daily": ("litellm_dbctl.cli.daily", "Check and rebuild LiteLLM's daily spend tables from the spend logs."),
    "completions": ("litellm_dbctl.cli.completions_install", "Install shell completion (bash, zsh, fish)."),
}
GLOBAL_OPTIONS: list[tuple[str, str]] = [
    ("--database-url URL", "PostgreSQL URL. Default: $DBCTL_DATABASE_URL, else $DATABASE_URL (none: exit 2, or the "
                           "embedded server when run at a terminal)."),
    ("--embedded", "Use dbctl's embedded PostgreSQL (also DBCTL_DATABASE_URL=embedded)."),
    ("--output table|json|csv", "Output format for data (default: table)."),
    ("--json", "Shorthand for --output json."),
    ("-q, --quiet", "Print nothing on success (for cron)."),
    ("-v, --verbose", "More diagnostics on stderr (a redacted traceback on errors); -vv for debug."),
    ("--no-color", "No colour (NO_COLOR is honoured too)."),
    ("-V, --version", "Print the version and exit."),
]
GLOBAL_HELP = (
    "Global options go anywhere on the line: --database-url URL, --embedded, --output table|json|csv, --json, "
    "-q, -v, --no-color, --version. Exit codes: 0 ok, 1 error, 2 bad input, 3 changes pending, 4 integrity, "
    "5 lock busy, 6 schema too old."
)
EMBEDDED_USED = "dbctl.embedded"  # ctx.meta key: how this run came to use the embedded server (common.target)


@dataclass
class Settings:
    """Global options, shared by every command through the root context."""

    database_url: Optional[str] = None
    embedded: bool = False
    output: str = "table"
    quiet: bool = False
    verbose: int = 0
    color: bool = True
    version: bool = False


class CliError(click.ClickException):
    """A DbctlError on its way out: one line (plus a hint) on stderr, the documented exit code."""

    def __init__(self, message: str, exit_code: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.hint = hint

    def show(self, file: Any = None) -> None:
        stream = file or sys.stderr
        stream.write(f"dbctl: error: {self.message}\n")
        if self.hint:
            stream.write(f"dbctl: hint: {self.hint}\n")


def parse_global_options(args: list[str]) -> tuple[Settings, list[str]]:
    """Take the global options out of `args`, wherever they stand (before `--`).

    They are parsed here rather than declared on the Typer callback: a start-up workaround. Typer
    0.29 coerces every non-bool parameter through pydantic, whose import alone costs ~90 ms on every
    command (pyproject pins typer below 0.29 for the same reason; with the pinned Typer this parsing
    saves nothing, it is what keeps the global options and --help off pydantic if the pin is lifted).
    tests/test_cli.py::test_the_start_up_workaround_for_typer_still_has_its_reason fails once a Typer
    no longer needs it, and checks it works while one does.
    """
    import os

    settings = Settings(color="NO_COLOR" not in os.environ)
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        name, has_value, value = arg.partition("=")
        if name in ("--database-url", "--output"):
            if not has_value:
                if index + 1 >= len(args):
                    raise click.exceptions.UsageError(f"Option '{name}' requires an argument.")
                index += 1
                value = args[index]
            if name == "--database-url":
                settings.database_url = value
            elif value not in ("table", "json", "csv"):
                raise click.exceptions.UsageError(f"Invalid value for '--output': must be table, json or csv, not {value!r}.")
            else:
                settings.output = value
        elif arg == "--embedded":
            settings.embedded = True
        elif arg == "--json":
            settings.output = "json"
        elif arg in ("-q", "--quiet"):
            settings.quiet = True
        elif arg in ("-v", "--verbose") or (arg.startswith("-v") and set(arg[1:]) == {"v"}):
            settings.verbose += 1 if arg in ("-v", "--verbose") else len(arg) - 1
        elif arg == "--no-color":
            settings.color = False
        elif arg in ("--version", "-V"):
            settings.version = True
        else:
            rest.append(arg)
        index += 1
    return settings, rest


def convert_error(exc: BaseException) -> CliError | None:
    """The CliError for a user-facing failure, or None for a bug."""
    from litellm_dbctl.common.redaction import redact

    if isinstance(exc, DbctlError):
        return CliError(redact(exc.message), int(exc.exit_code), redact(exc.hint) if exc.hint else None)
    if type(exc).__module__.startswith("psycopg"):
        text = redact(str(exc)).strip().splitlines()
        return CliError(f"database error: {text[0] if text else type(exc).__name__}", int(ExitCode.ERROR))
    return None


class LazyGroup(TyperGroup):
    """Root group: imports a command group's module only when it is invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        eager = super().list_commands(ctx)
        lazy = [name for name, (module, _) in GROUPS.items() if find_spec(module) is not None]
        return sorted(set(eager) | set(lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in GROUPS:
            module = importlib.import_module(GROUPS[name][0])
            command = typer.main.get_command(module.app)
            command.name = name
            # Completion is installed from completions/ (static scripts), not per group.
            command.params = [p for p in command.params if p.name not in ("install_completion", "show_completion")]
            _prepare(command)
            return command
        return super().get_command(ctx, name)

    def get_help_option(self, ctx: click.Context) -> Any:
        return _help_option_without_coercion(self, ctx)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        click.Command.format_options(self, ctx, formatter)  # this group's own options, not its commands
        with formatter.section("Global options (anywhere on the line)"):
            formatter.write_dl(GLOBAL_OPTIONS)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, GROUPS[name][1]) for name in self.list_commands(ctx) if name in GROUPS]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        settings, rest = parse_global_options(list(args))
        if settings.version:  # `dbctl migrate status --version`; a lone `dbctl --version` never gets here (__main__)
            typer.echo(f"dbctl {__version__}")
            ctx.exit(0)
        ctx.obj = settings
        _configure_logging(settings.quiet, settings.verbose)
        return super().parse_args(ctx, rest)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            converted = convert_error(exc)
            if converted is None:
                raise
            embedded_source = ctx.meta.get(EMBEDDED_USED)
            if embedded_source is not None and converted.hint and "migrate deploy" in converted.hint:
                from litellm_dbctl.db.config import embedded_schema_hint

                converted.hint = embedded_schema_hint(embedded_source)
            settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings()
            if settings.verbose:
                _print_traceback()
            raise converted from None


def _prepare(command: click.Command) -> None:
    """Per loaded command: the global-options epilog, and a help option Typer need not coerce."""
    command.epilog = command.epilog or GLOBAL_HELP
    if hasattr(command, "rich_markup_mode"):
        command.rich_markup_mode = None  # plain Click help everywhere: consistent, and no rich import
    command.get_help_option = types.MethodType(_help_option_without_coercion, command)  # type: ignore[method-assign]
    for sub in getattr(command, "commands", {}).values():
        _prepare(sub)


def _help_option_without_coercion(command: click.Command, ctx: click.Context) -> Any:
    """Typer coerces a parameter whose value is not a bool through pydantic, and the help flag's
    value is None when absent: that alone imports pydantic (~90 ms) on every command. A False
    default makes it a bool, which Typer passes through. Part of the start-up workaround of
    parse_global_options, and tested with it."""
    option = click.Command.get_help_option(command, ctx)
    if option is not None and option.default is None:
        option.default = False
    return option


def _print_traceback() -> None:
    import traceback

    from litellm_dbctl.common.redaction import redact

    sys.stderr.write(redact(traceback.format_exc()))


app = typer.Typer(
    cls=LazyGroup,
    name="dbctl",
    help="Administer a LiteLLM proxy's PostgreSQL database directly: migrations, users and teams, "
    "budgets, spend and the daily tables. No running proxy, no Node, no network.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


@app.callback(epilog=GLOBAL_HELP)
def root() -> None:
    """Administer a LiteLLM proxy's PostgreSQL database directly."""


def _configure_logging(quiet: bool, verbose: int) -> None:
    from litellm_dbctl.common.redaction import RedactingFilter

    logger = logging.getLogger("dbctl")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("dbctl: %(message)s"))
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO)


def command() -> click.Command:
    """The Click command behind `dbctl` (for tests, completions and docs)."""
    return typer.main.get_command(app)


def run(args: list[str]) -> int:
    """Run dbctl with `args`; returns the exit code. Unexpected errors print a redacted traceback."""
    try:
        command().main(args=args, prog_name="dbctl", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        sys.stderr.write("dbctl: interrupted\n")
        return 130
    except Exception as exc:
        from litellm_dbctl.common.redaction import redact

        if "-v" in args or "--verbose" in args or "-vv" in args:
            _print_traceback()
        sys.stderr.write(f"dbctl: internal error: {type(exc).__name__}: {redact(str(exc))}\n"
                         "dbctl: hint: run with -v for the traceback and report it\n")
        return int(ExitCode.ERROR)
    return 0
