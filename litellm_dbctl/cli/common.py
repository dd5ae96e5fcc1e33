"""What every command shares: settings, connecting, and rendering results.

Data goes to stdout in the format asked for (`table`, drawn by cli/tables.py, `json`, `csv`);
diagnostics go to stderr; `-q` silences both on success.
"""

from __future__ import annotations

import csv
import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, fields, is_dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from litellm_dbctl.cli import EMBEDDED_USED, Settings
from litellm_dbctl.common import checks

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target


MAX_LOCK_TIMEOUT = 86400.0  # a day: a longer wait for a lock is a mistake (nan or inf waited forever)


def lock_seconds(value: float) -> float:
    """--lock-timeout checked where it is parsed: finite, 0 to a day (exit 2 naming it)."""
    checked = checks.flag("--lock-timeout", value, partial(checks.seconds, maximum=MAX_LOCK_TIMEOUT))
    assert checked is not None
    return checked


# Options more than one command uses, declared once.
LOCK_TIMEOUT = typer.Option(30.0, "--lock-timeout", metavar="SECONDS", min=0, callback=lock_seconds,
                            help="How long to wait for another run's lock before exit 5.")
DRY_RUN = typer.Option(False, "--dry-run", help="Run the real statements in a transaction that is rolled back; "
                       "report what would change (exit 3 when something would).")


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
    if resolved.embedded_dir is not None and EMBEDDED_USED not in ctx.meta:
        ctx.meta[EMBEDDED_USED] = resolved.source
        why = ("no database configured: set DATABASE_URL or --database-url for your proxy's database"
               if resolved.source == config.EMBEDDED_FALLBACK else resolved.source)
        info(ctx, f"dbctl: using the embedded PostgreSQL in {resolved.embedded_dir} ({why})")
    return resolved


def connect(ctx: typer.Context, *, read_only: bool = False, direct: bool = False, autocommit: bool = False,
            lock_timeout: str | None = None) -> psycopg.Connection:
    """A connection for this command; read commands get READ ONLY transactions."""
    from litellm_dbctl.db import database

    return database.connect(target(ctx, direct=direct), command=command_name(ctx), read_only=read_only,
                            autocommit=autocommit, lock_timeout=lock_timeout)


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
    prose: Sequence[str] = (),
    whole: Sequence[str] = (),
    optional: Sequence[str] = (),
) -> None:
    """Print rows as a table, JSON or CSV. `json_payload` replaces the rows in JSON mode. `prose`,
    `whole` and `optional` say how a table fits a terminal (tables.write)."""
    s = settings(ctx)
    if s.quiet:
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
