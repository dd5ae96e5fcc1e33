"""`dbctl migrate status` for the common case, answered before Typer or psycopg is imported.

Cron and deploy scripts call `migrate status` all the time and almost always get "up to date".
Importing Typer and psycopg costs several times what answering takes, so `__main__` first asks this
module. Only the transport is its own: it reads the ledger through libpq (the one psycopg-binary
ships, via ctypes) instead of psycopg. Everything that decides is the full command's: the database
and schema (`config.resolve(direct=True)`), the session settings (`database.session_settings`), the
migrations on disk (`source.load_source`), the ledger query (`ledger/rows`) and its reading
(`ledger.evaluate`). When that says up to date, it prints what the full command prints and returns
0; in every other case, or on any trouble, it returns None and the full command runs (and explains).
"""

from __future__ import annotations

import ctypes
import os
import sys
from datetime import datetime, timezone
from typing import Any

from litellm_dbctl.common.errors import DbctlError
from litellm_dbctl.db import config, database, sqlfiles
from litellm_dbctl.db.config import Target
from litellm_dbctl.migrate import ledger
from litellm_dbctl.migrate.ledger import LedgerRow
from litellm_dbctl.migrate.source import load_source

COMMAND = "migrate status"
_CONNECTION_OK, _TUPLES_OK = 0, 2  # libpq's ConnStatusType and ExecStatusType values


def run(args: list[str]) -> int | None:
    """The exit code when the fast path answered, None to run the full command."""
    request = _parse(args)
    if request is None:
        return None
    url, quiet = request
    try:
        target = config.resolve(url, direct=True)
        if target.embedded_dir is not None or target.pgbouncer:
            return None  # starting a server, or SET after connecting: the full command's business
        source = load_source()
    except (DbctlError, OSError):
        return None  # the full command reports it
    rows = _ledger(target)
    if rows is None:
        return None
    status = ledger.evaluate(source, rows)
    if not status.up_to_date:
        return None  # the full command lists what is not applied
    if not quiet:
        sys.stderr.write(f"migrations: {source.label} ({len(source.migrations)})\n")
        sys.stdout.write(status.summary() + "\n")
    return 0


def _parse(args: list[str]) -> tuple[str | None, bool] | None:
    """(--database-url or None, quiet) for a command line the fast path understands, else None."""
    positional: list[str] = []
    url: str | None = None
    quiet = False
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-q", "--quiet"):
            quiet = True
        elif arg in ("--database-url", "--output") and index + 1 < len(args):
            index += 1
            if arg == "--output" and args[index] != "table":
                return None
            url = args[index] if arg == "--database-url" else url
        elif arg.startswith("--database-url="):
            url = arg.split("=", 1)[1]
        elif arg == "--output=table":
            pass
        elif arg.startswith("-"):
            return None
        else:
            positional.append(arg)
        index += 1
    return (url, quiet) if positional == COMMAND.split() else None


def _ledger(target: Target) -> list[LedgerRow] | None:
    """The ledger rows as `ledger.read_ledger` returns them; None on any trouble (no libpq, no
    connection, no ledger table, a value this reader does not parse)."""
    libpq = _libpq()
    if libpq is None:
        return None
    settings = {**database.session_settings(target), "default_transaction_read_only": "on",
                "DateStyle": "ISO", "TimeZone": "UTC"}  # a read-only session, timestamps `_timestamp` reads
    params = {"dbname": target.url, **database.connection_parameters(target, command=COMMAND, settings=settings)}
    keys = (ctypes.c_char_p * (len(params) + 1))(*(k.encode() for k in params), None)
    values = (ctypes.c_char_p * (len(params) + 1))(*(v.encode() for v in params.values()), None)
    conn = libpq.PQconnectdbParams(keys, values, 1)
    try:
        if libpq.PQstatus(conn) != _CONNECTION_OK:
            return None
        rows = _query(libpq, conn, sqlfiles.get("ledger/rows").sql)
        if rows is None:  # no ledger table, or no privilege: the full command explains
            return None
        return [_row(row) for row in rows]
    except (TypeError, ValueError):  # a column or a value the full command would read differently
        return None
    finally:
        libpq.PQfinish(conn)


def _timestamp(text: str) -> datetime:
    """A timestamptz in PostgreSQL's ISO output in UTC (`2025-03-26 16:21:13.123+00`), as psycopg
    reads it. ValueError for anything else (BC dates, infinity)."""
    if not text.endswith("+00"):
        raise ValueError(text)
    seconds, _, fraction = text[:-3].partition(".")
    return datetime.fromisoformat(f"{seconds}.{fraction:0<6}").replace(tzinfo=timezone.utc)


_READ: dict[str, Any] = {"finished_at": _timestamp, "rolled_back_at": _timestamp, "started_at": _timestamp,
                         "applied_steps_count": int}  # text -> what psycopg returns; other columns are text


def _row(texts: dict[str, str | None]) -> LedgerRow:
    """A ledger row from libpq's text, with the Python types psycopg gives the full command."""
    values: dict[str, Any] = {name: None if text is None else _READ.get(name, str)(text) for name, text in texts.items()}
    return LedgerRow(**values)


def _query(libpq: Any, conn: Any, sql: str) -> list[dict[str, str | None]] | None:
    """The rows of `sql` as column name -> text (None for NULL); None when it failed."""
    result = libpq.PQexec(conn, sql.encode())
    try:
        if libpq.PQresultStatus(result) != _TUPLES_OK:
            return None
        names = [libpq.PQfname(result, column).decode() for column in range(libpq.PQnfields(result))]
        return [{name: None if libpq.PQgetisnull(result, row, column) else libpq.PQgetvalue(result, row, column).decode()
                 for column, name in enumerate(names)} for row in range(libpq.PQntuples(result))]
    finally:
        libpq.PQclear(result)


def _libpq() -> Any:
    """psycopg-binary's own libpq (what the full command uses), else the system's; None if neither."""
    candidates = []
    for entry in sys.path:
        bundled = os.path.join(entry or ".", "psycopg_binary.libs")
        if os.path.isdir(bundled):
            candidates += [os.path.join(bundled, n) for n in sorted(os.listdir(bundled)) if n.startswith("libpq")]
    candidates.append("libpq.so.5")
    for candidate in candidates:
        try:
            lib = ctypes.CDLL(candidate)
            break
        except OSError:
            continue
    else:
        return None
    pointer, text, number = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    signatures: dict[str, tuple[Any, list[Any]]] = {
        "PQconnectdbParams": (pointer, [ctypes.POINTER(text), ctypes.POINTER(text), number]),
        "PQstatus": (number, [pointer]), "PQfinish": (None, [pointer]),
        "PQexec": (pointer, [pointer, text]), "PQresultStatus": (number, [pointer]), "PQclear": (None, [pointer]),
        "PQntuples": (number, [pointer]), "PQnfields": (number, [pointer]), "PQfname": (text, [pointer, number]),
        "PQgetvalue": (text, [pointer, number, number]), "PQgetisnull": (number, [pointer, number, number]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib
