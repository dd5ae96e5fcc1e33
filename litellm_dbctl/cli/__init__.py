"""The `dbctl` command tree: Typer only, a thin projection of the library.

Command groups are imported only when invoked, and their modules import psycopg, sqlglot and rich
only inside command bodies, so `dbctl --help` stays as fast as a bare Typer app. Global options may
be given anywhere on the line (`dbctl migrate status --json`): they are moved in front before
parsing. User-facing errors become one line on stderr and the exit code of `errors.ExitCode`.
"""

from __future__ import annotations

import importlib
import logging
import re
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
    "key": ("litellm_dbctl.cli.key", "Create, change, rotate, list, block and delete virtual keys."),
    "provision": ("litellm_dbctl.cli.provision", "Apply one spec file of organizations, teams, users and keys."),
    "budget": ("litellm_dbctl.cli.budget", "Keep budgets right: resets, declared limits, counter repair, status."),
    "spend": ("litellm_dbctl.cli.spend", "Who spent what: summaries, top spenders, daily series, logs, exports."),
    "daily": ("litellm_dbctl.cli.daily", "Check and rebuild LiteLLM's daily spend tables from the spend logs."),
    "audit": ("litellm_dbctl.cli.audit", "Read the audit trail (LiteLLM_AuditLog): list, show, export."),
    "accounting": ("litellm_dbctl.cli.accounting", "LiteLLM 1.110's spend-log outbox: backlog, parked deliveries, retry."),
    "logs": ("litellm_dbctl.cli.logs", "The spend-log table's lifecycle: size, archive, prune, scrub, partition."),
    "completions": ("litellm_dbctl.cli.completions_install", "Install shell completion (bash, zsh, fish)."),
}
GLOBAL_OPTIONS: list[tuple[str, str]] = [
    ("--database-url URL", "PostgreSQL URL. Default: $DBCTL_DATABASE_URL, else $DATABASE_URL (none: exit 2, or the "
                           "embedded server when run at a terminal)."),
    ("--embedded", "Use dbctl's embedded PostgreSQL (also DBCTL_DATABASE_URL=embedded)."),
    ("--output table|json|csv", "Output format for data (default: table)."),
    ("--json", "Shorthand for --output json."),
    ("-q, --quiet", "No diagnostics or success summaries (for cron); the data asked for is still printed."),
    ("-v, --verbose", "More diagnostics on stderr (a redacted traceback on errors); -vv for debug."),
    ("--wide", "Tables with every column and cell whole, however wide (as in a pipe); on a terminal, tables "
               "fit its width and cut long cells with an ellipsis."),
    ("--no-color", "No colour (NO_COLOR is honoured too)."),
    ("--litellm-version X.Y", "The LiteLLM release whose rules apply (1.109, 1.110), instead of the one derived "
                              "from the migration ledger; also $DBCTL_LITELLM_VERSION."),
    ("--allow-newer-schema", "Run the commands that apply a release's rules (budget sync resets and "
                             "--repair-spend, daily check/reconcile) on a database newer than dbctl knows."),
    ("-V, --version", "Print the version and exit."),
]
GLOBAL_HELP = (
    "Global options go anywhere on the line: --database-url URL, --embedded, --output table|json|csv, --json, "
    "-q, -v, --wide, --no-color, --litellm-version X.Y, --allow-newer-schema, --version. "
    "Exit codes: 0 ok, 1 error, 2 bad input, 3 changes pending, 4 integrity, "
    "5 lock busy, 6 schema too old."
)
# `dbctl spend` alone prints the group's help (exit 2): a UsageError that is not an error line.
NO_ARGS_IS_HELP: tuple[type[Exception], ...] = tuple(
    e for e in [getattr(click.exceptions, "NoArgsIsHelpError", None)] if isinstance(e, type))
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
    wide: bool = False
    version: bool = False
    litellm_version: Optional[str] = None  # a release line dbctl knows (common/releases.py)
    litellm_version_source: Optional[str] = None  # --litellm-version or DBCTL_LITELLM_VERSION
    allow_newer_schema: bool = False


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
        if name in ("--database-url", "--output", "--litellm-version"):
            if not has_value:
                if index + 1 >= len(args):
                    raise click.exceptions.UsageError(f"Option '{name}' requires an argument.")
                index += 1
                value = args[index]
            _refuse_bad_text(name, value)
            if name == "--database-url":
                settings.database_url = value
            elif name == "--litellm-version":
                settings.litellm_version, settings.litellm_version_source = _release_line(name, value), name
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
        elif arg == "--wide":
            settings.wide = True
        elif arg == "--no-color":
            settings.color = False
        elif arg == "--allow-newer-schema":
            settings.allow_newer_schema = True
        elif arg in ("--version", "-V"):
            settings.version = True
        else:
            rest.append(arg)
        index += 1
    variable = os.environ.get("DBCTL_LITELLM_VERSION")
    if settings.litellm_version is None and variable:
        settings.litellm_version = _release_line("DBCTL_LITELLM_VERSION", variable)
        settings.litellm_version_source = "DBCTL_LITELLM_VERSION"
    return settings, rest


def _release_line(name: str, value: str) -> str:
    """The release line `value` names (`1.110`, `1.110.2`); InvalidInput naming `name` and the known ones."""
    from litellm_dbctl.common import releases
    from litellm_dbctl.common.errors import InvalidInput

    line = releases.line_of(value)
    if line is None:
        raise InvalidInput(f"{name} {value}: not a LiteLLM release dbctl knows (known: {', '.join(releases.LINES)})")
    return line


def usage_error(exc: click.exceptions.UsageError) -> CliError:
    """Click's usage block (Usage:, Try ..., Error: ...) as one error line and at most one hint: the
    closest command or option name, else where the help is."""
    import difflib

    ctx = exc.ctx
    message = " ".join(exc.format_message().split())
    hint = f"see `{ctx.command_path} --help`" if ctx is not None else None
    names: list[str] = []
    typo = ""
    unknown = re.match(r"No such command '([^']*)'", message)
    if isinstance(exc, click.exceptions.NoSuchOption):
        typo = exc.option_name
        names = [o for p in (ctx.command.get_params(ctx) if ctx else []) for o in (*p.opts, *p.secondary_opts)
                 if o.startswith("--")]
        names += [o.split()[0].split(",")[0] for o, _ in GLOBAL_OPTIONS]
        message = f"no such option: {typo}"
    elif unknown is not None and ctx is not None and isinstance(ctx.command, TyperGroup):
        typo = unknown.group(1)
        names = ctx.command.list_commands(ctx)
        message = f"no such command: {' '.join([*ctx.command_path.split()[1:], typo])}"
    if typo:
        close = difflib.get_close_matches(typo, names, n=1)
        if close and typo.startswith("-"):
            hint = f"did you mean {close[0]}?"
        elif close and ctx is not None:
            hint = f"did you mean `{ctx.command_path} {close[0]}`?"
    if message[:1].isupper() and not message[1:2].isupper():
        message = message[0].lower() + message[1:]
    return CliError(message.rstrip("."), int(ExitCode.USAGE), hint)


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
        try:
            return self._parse_args(ctx, args)
        except NO_ARGS_IS_HELP:
            raise
        except click.exceptions.UsageError as exc:
            exc.ctx = exc.ctx or ctx
            raise usage_error(exc) from None

    def _parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            settings, rest = parse_global_options(list(args))
        except DbctlError as exc:  # raised before `invoke`, which converts the others
            converted = convert_error(exc)
            assert converted is not None
            raise converted from None
        if settings.version:  # `dbctl migrate status --version`; a lone `dbctl --version` never gets here (__main__)
            typer.echo(f"dbctl {__version__}")
            ctx.exit(0)
        ctx.obj = settings
        _configure_logging(settings.quiet, settings.verbose)
        return super().parse_args(ctx, rest)

    def invoke(self, ctx: click.Context) -> Any:
        sqlfiles = sys.modules.get("litellm_dbctl.db.sqlfiles")  # loaded by an earlier run in this process (tests)
        if sqlfiles is not None:
            sqlfiles.new_run()  # a newer-than-known database is named once per command
        try:
            return super().invoke(ctx)
        except NO_ARGS_IS_HELP:
            raise
        except click.exceptions.UsageError as exc:
            raise usage_error(exc) from None
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
    for param in command.params:
        param.process_value = types.MethodType(_checked_value, param)  # type: ignore[method-assign]
    for sub in getattr(command, "commands", {}).values():
        _prepare(sub)


def _checked_value(param: click.Parameter, ctx: click.Context, value: Any) -> Any:
    """Every option's and argument's value as typed, before Click converts it: a NUL character or
    bytes that are not UTF-8 (surrogate-escaped argv) are exit 2 naming the flag, whatever its type,
    so no command, file name or query ever sees them (and no usage error echoes them)."""
    _refuse_bad_text(_flag_name(param), value)
    return type(param).process_value(param, ctx, value)


def _flag_name(param: click.Parameter) -> str:
    """How the user wrote it: the long option (`--user`), else the short one, or the argument's name."""
    if param.param_type_name != "option":
        return (param.metavar or param.name or "argument").upper()
    return max(param.opts, key=lambda o: o.startswith("--"))


def _refuse_bad_text(flag: str, value: Any) -> None:
    """InvalidInput naming `flag` when a string in `value` (one, or a sequence of them) holds a NUL or
    is not UTF-8 (`checks.text`)."""
    from litellm_dbctl.common import checks

    for item in value if isinstance(value, (list, tuple)) else (value,):
        if isinstance(item, str) and ("\x00" in item or not item.isascii()):
            checks.flag(flag, item, checks.text)


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
