"""What every command shares: settings, connecting, and rendering results.

Data goes to stdout in the format asked for (`table`, drawn by cli/tables.py, `json`, `csv`);
diagnostics go to stderr. `-q` silences diagnostics and success summaries, never the data asked for:
JSON, CSV and a read command's table are always printed; only the table reporting a change or a
check (`report=True`, whose exit code already tells the outcome) is left out.
"""

from __future__ import annotations

import csv
import functools
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, fields, is_dataclass, replace
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Optional

import typer
from typer.core import TyperCommand

from litellm_dbctl.cli import EMBEDDED_USED, Settings
from litellm_dbctl.common import checks
from litellm_dbctl.common.errors import InvalidInput

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target


MAX_LOCK_TIMEOUT = 86400.0  # a day: a longer wait for a lock is a mistake (nan or inf waited forever)


# -- option names and durations (README: Options and periods) -----------------------------------


def deprecated(ctx: typer.Context, text: str) -> None:
    """`dbctl: warning: <text>` on stderr once per run (unless -q): an old spelling still works for
    one release, and the line says what to write instead."""
    said = ctx.find_root().meta.setdefault("dbctl.deprecated", set())
    if text not in said:
        said.add(text)
        info(ctx, f"dbctl: warning: {text}")


class _Renamed(TyperCommand):
    """A command whose options had other spellings: they are rewritten to the current ones before
    parsing, with a deprecation line; hidden from help and completion."""

    renamed: ClassVar[Mapping[str, str]] = {}

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, rename(ctx, args, self.renamed))


def renamed(old: Mapping[str, str]) -> type[TyperCommand]:
    """The command class (`@app.command(..., cls=common.renamed({"--tz": "--timezone"}))`) that still
    accepts the old spellings in `old`: old option -> new option, or -> a metavar such as `FILE` when
    the value is now the positional argument."""
    return type("Renamed", (_Renamed,), {"renamed": dict(old)})


def rename(ctx: typer.Context, args: list[str], names: Mapping[str, str]) -> list[str]:
    """`args` with the old spellings in `names` replaced (`--tz=X`, `-tX` and `-t X` forms), up to `--`."""
    out: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--":
            return out + args[index:]
        old = next((o for o in names if arg == o or arg.startswith(o + "=")
                    or (len(o) == 2 and not arg.startswith("--") and arg.startswith(o))), None)
        if old is None:
            out.append(arg)
            continue
        new = names[old]
        value = arg[len(old):].removeprefix("=") if arg != old else None
        if new.startswith("-"):
            deprecated(ctx, f"{old} is deprecated; use {new}")
            out.append(new if value is None else f"{new}={value}")
        else:
            deprecated(ctx, f"{old} is deprecated; give {new} as the argument, without {old}")
            out.extend([] if value is None else [value])
    return out


def span_option(default: str | None, name: str, *, maximum: float, former_unit: str | None = None,
                postgres: bool = False, help: str) -> Any:
    """A Typer option for a length of time with a unit (common.spans): the value is seconds (a float),
    or with `postgres` a PostgreSQL setting text (`10s`, `500ms`). A bare number is read in
    `former_unit` for one release, with a deprecation line; without one it is refused (exit 2)."""
    from litellm_dbctl.common import spans

    def check(ctx: typer.Context, text: Optional[str]) -> Any:
        if text is None:
            return None
        try:
            span = spans.parse(text, former_unit=former_unit, maximum=maximum)
        except checks.InvalidValue as exc:
            raise InvalidInput(f"{name}: {exc}") from None
        if span.bare:
            deprecated(ctx, f"{name} {text.strip()}: a number without a unit is deprecated; "
                            f"read as {span.text}; write {span.text}")
        return spans.postgres(span.seconds) if postgres else span.seconds

    return typer.Option(default, name, metavar="DURATION", parser=str, callback=check, help=help)


def kind(value: Optional[str]) -> Optional[str]:
    """An entity kind as option values spell it, `end-user`; `end_user` (JSON's spelling) is the same."""
    return value.strip().replace("_", "-") if value is not None else None


# Options more than one command uses, declared once.
LOCK_TIMEOUT = span_option("30s", "--lock-timeout", maximum=MAX_LOCK_TIMEOUT, former_unit="s",
                           help="How long to wait for another run's lock before exit 5 (e.g. 30s, 2m).")
DRY_RUN = typer.Option(False, "--dry-run", help="Run the real statements in a transaction that is rolled back; "
                       "report what would change (exit 3 when something would).")
SINCE_HELP = ("Start: a UTC day (YYYY-MM-DD, today, yesterday, 7d = seven days ago, 4w) from its midnight, "
              "or an instant (an ISO date-time, 24h = a day ago, 30m, now); all = from the beginning.")
UNTIL_HELP = "End: a day is included, an instant is not; same forms as --since."


def option_group(param: str, options: Mapping[str, tuple[Any, Any]],
                 build: Callable[..., Any]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A decorator giving a command `options` (parameter -> (type, Typer option)) and calling it with
    `param=build(**their values)`: options several commands share are declared once and reach the
    command as one value. Typer reads options from a command's signature, so the wrapper's signature
    is the command's own parameters (without `param`) followed by these."""
    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command)
        own = [p for p in signature.parameters.values() if p.name != param]
        added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
                 for name, (kind, option) in options.items()]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            values = {name: kwargs.pop(name) for name in options}
            command(*args, **{param: build(**values)}, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=own + added)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {k: v for k, v in command.__annotations__.items() if k != param}
        return wrapper

    return decorate


def settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else Settings()


def command_name(ctx: typer.Context) -> str:
    """`migrate deploy` for `dbctl migrate deploy`: the application_name suffix."""
    return ctx.command_path.split(" ", 1)[1] if " " in ctx.command_path else ctx.command_path


def target(ctx: typer.Context, *, direct: bool = False) -> Target:
    """The database of this run. The embedded server is named on stderr once per run (unless -q);
    with nothing configured it is used only when a person is at a terminal."""
    from litellm_dbctl.db import config

    s = settings(ctx)
    interactive = not s.quiet and sys.stdin.isatty() and sys.stderr.isatty()
    resolved = config.resolve(s.database_url, direct=direct, embedded=s.embedded, interactive=interactive)
    if s.litellm_version is not None or s.allow_newer_schema:
        resolved = replace(resolved, litellm_version=s.litellm_version,
                           litellm_version_source=s.litellm_version_source, allow_newer_schema=s.allow_newer_schema)
    if resolved.embedded_dir is not None and EMBEDDED_USED not in ctx.meta:
        ctx.meta[EMBEDDED_USED] = resolved.source
        why = ("no database configured: set DATABASE_URL or --database-url for your proxy's database"
               if resolved.source == config.EMBEDDED_FALLBACK else resolved.source)
        info(ctx, f"dbctl: using the embedded PostgreSQL in {resolved.embedded_dir} ({why})")
    return resolved


def connect(ctx: typer.Context, *, read_only: bool = False, direct: bool = False, autocommit: bool = False,
            lock_timeout: str | None = None) -> psycopg.Connection:
    """A connection for this command; read commands get READ ONLY transactions."""
    from litellm_dbctl.db import database, sqlfiles

    conn = database.connect(target(ctx, direct=direct), command=command_name(ctx), read_only=read_only,
                            autocommit=autocommit, lock_timeout=lock_timeout)
    # The ledger, read once per connection anyway for `requires:` checks, is read first: so every
    # command names a database newer than dbctl knows (sqlfiles.ledger_state), even one whose
    # statements require no migration.
    sqlfiles.ledger_state(conn)
    if not autocommit:
        conn.rollback()  # the command's transaction starts with its own statements
    return conn


# -- output -------------------------------------------------------------------------------------


def warn_if_cut(ctx: typer.Context, rows: Sequence[Any], limit: int, what: str) -> Sequence[Any]:
    """`rows` as read with `limit`; says on stderr when the limit may have cut the list short."""
    if len(rows) >= limit:
        info(ctx, f"note: showing the first {limit} {what}; there may be more (raise --limit)")
    return rows


def info(ctx: typer.Context, text: str) -> None:
    """A diagnostic line on stderr, unless -q."""
    if not settings(ctx).quiet:
        sys.stderr.write(text.rstrip("\n") + "\n")


_kept: list[object] = []


def keep_until_exit(*objects: object) -> None:
    """Hold a command's big results (a spec, a plan) until the process ends with os._exit (see
    __main__): freeing a 10,000-user spec and plan object by object costs 20-30 ms that no one waits
    for. Each call replaces the previous one's, so an in-process caller holds one command's at most."""
    _kept[:] = objects


def line(ctx: typer.Context, text: str) -> None:
    """A human result line on stdout (a summary); not in json/csv mode, not with -q."""
    s = settings(ctx)
    if not s.quiet and s.output == "table":
        from litellm_dbctl.cli import tables

        sys.stdout.write(tables.sentence(text.rstrip("\n"), None if s.wide else tables.terminal_width()) + "\n")


def to_jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a named tuple: an object, as a dataclass
        return to_jsonable(value._asdict())
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):  # with its zone: a naive one is UTC (LiteLLM's columns have none)
        return (value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return value


def dump_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False) + "\n")


def emit(
    ctx: typer.Context,
    rows: Sequence[Mapping[str, Any]] | Iterable[Any],
    columns: Sequence[str] | None = None,
    *,
    json_payload: Any = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    report: bool = False,
    prose: Sequence[str] = (),
    whole: Sequence[str] = (),
    optional: Sequence[str] = (),
) -> None:
    """Print rows as a table, JSON or CSV. `json_payload` replaces the rows in JSON mode. A `report`
    (what a change or check found) is a summary: -q leaves out its table, not its JSON or CSV.
    `prose`, `whole` and `optional` say how a table fits a terminal (tables.write)."""
    s = settings(ctx)
    if s.quiet and report and s.output == "table":
        return
    records = [to_jsonable(r) for r in rows] if s.output != "table" else [_fields(r) for r in rows]
    if s.output == "json":
        dump_json(records if json_payload is None else json_payload)
        return
    cols = list(columns) if columns else (list(records[0].keys()) if records else [])
    if s.output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(cols)
        for record in records:
            writer.writerow([_csv_cell(record.get(c)) for c in cols])
        return
    if records:
        table(ctx, records, cols, title=title, headers=headers, prose=prose, whole=whole, optional=optional)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def _fields(row: Any) -> Mapping[str, Any]:
    """A table row's fields by name, values as they are: the table renderer formats them."""
    if is_dataclass(row) and not isinstance(row, type):
        return {f.name: getattr(row, f.name) for f in fields(row)}
    if isinstance(row, tuple) and hasattr(row, "_asdict"):
        return dict(row._asdict())
    return row if isinstance(row, Mapping) else dict(row)


def table(ctx: typer.Context, records: Sequence[Mapping[str, Any]], columns: Sequence[str], *,
          title: str | None = None, headers: Mapping[str, str] | None = None, prose: Sequence[str] = (),
          whole: Sequence[str] = (), optional: Sequence[str] = ()) -> None:
    """A table on stdout: fitted to a terminal (unless --wide), whole cells in a pipe (tables.write).
    Columns left out to fit are named on stderr."""
    from litellm_dbctl.cli import tables

    s = settings(ctx)
    shown = tables.write(records, columns, wide=s.wide, color=s.color, headers=headers, title=title, prose=prose,
                         whole=whole, optional=optional)
    if shown.hidden:
        info(ctx, f"dbctl: note: {', '.join(shown.hidden)} left out to fit {shown.columns} columns "
                  "(--wide shows every column)")


NAMED = 10  # things found a failing check names on stderr; --json lists them all


def name_found(ctx: typer.Context, head: str, names: Sequence[str]) -> None:
    """Why a monitoring command exits non-zero, naming what it found (up to NAMED) on stderr: with -q
    (cron mails only this line) or beside JSON/CSV. Without -q a table already lists them."""
    s = settings(ctx)
    if s.output == "table" and not s.quiet:
        return
    more = f" and {len(names) - NAMED} more (--json lists them)" if len(names) > NAMED else ""
    sys.stderr.write(f"dbctl: {head}" + (f": {', '.join(names[:NAMED])}{more}" if names else "") + "\n")


def exit_with(code: int) -> None:
    if code:
        raise typer.Exit(code)


# -- Redis failing after a commit ---------------------------------------------------------------

STALE_NAMED = 10  # stale cache entries an error line names; --json lists them all
SHOWN_HASH = 12  # a key's token as `key list` cuts it (here marked "…"): the whole hash only in JSON


def shown_id(kind: str, id_: str) -> str:
    return id_[:SHOWN_HASH] + "…" if kind == "key" and len(id_) > SHOWN_HASH else id_


def stale_names(refs: Sequence[Any]) -> str:
    """The cache.EntityRefs a failed invalidation left stale, for one error line: after the commit a
    re-run finds nothing to redo, so this (and the JSON `redis.stale`) is the operator's only record."""
    named = ", ".join(f"{ref.kind} {shown_id(ref.kind, ref.id)}{f' in {ref.team_id}' if ref.team_id else ''}"
                      for ref in refs[:STALE_NAMED])
    return named + (f" and {len(refs) - STALE_NAMED} more (--json lists them)" if len(refs) > STALE_NAMED else "")


def stale_records(refs: Iterable[Any]) -> list[dict[str, Any]]:
    """The JSON `redis.stale` list of the cache.EntityRefs a failed invalidation left stale."""
    return [{"entity": ref.kind, "id": ref.id, "team_id": ref.team_id} for ref in refs]


def check_destination(to: str) -> None:
    """--to names a file in a writable directory: refused (exit 2) before a long export, not after."""
    checks.flag("--to", to, checks.name)
    directory = os.path.dirname(os.path.abspath(to))
    if os.path.isdir(to):
        raise InvalidInput(f"--to: {to} is a directory (name a file)")
    if not os.path.isdir(directory):
        raise InvalidInput(f"--to: no such directory {directory}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InvalidInput(f"--to: cannot write in {directory}")
