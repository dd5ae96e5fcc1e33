"""`dbctl migrate status` for the common case, answered before Typer or psycopg is imported.

Cron and deploy scripts call `migrate status` all the time and almost always get "up to date".
Importing Typer and psycopg costs several times what answering takes, so `__main__` first asks this
module: with a plain command line (`migrate status`, `-q`, `--database-url URL`, `--output table`),
a URL without `?schema=` and the installed litellm-proxy-extras, it reads the ledger through
libpq (the one psycopg-binary ships, via ctypes) and, when every migration is applied with the
file's exact checksum, nothing failed and no row is unknown, prints what the full command prints and returns 0.
In every other case it returns None and the full command runs (and explains). It never reports
anything the full command would not: it only ever says "up to date".
"""

from __future__ import annotations

import os
import sys

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUERIES = os.path.join(_PACKAGE, "queries")
if not os.path.isdir(QUERIES):  # a source checkout: queries/ sits beside the package
    QUERIES = os.path.join(os.path.dirname(_PACKAGE), "queries")


def run(args: list[str]) -> int | None:
    """The exit code when the fast path answered, None to run the full command."""
    request = _parse(args)
    if request is None:
        return None
    url, quiet = request
    source = _packaged_source()
    if source is None:
        return None
    label, checksums = source
    rows = _ledger(url)
    if rows is None:
        return None
    applied: set[str] = set()
    latest: dict[str, str] = {}
    for name, checksum, finished, rolled_back in rows:  # oldest first, as ledger/rows orders them
        if not finished and not rolled_back:
            return None  # failed: the full command explains
        if finished and not rolled_back:
            applied.add(name)
            latest[name] = checksum
    if any(name not in applied or latest[name] != checksum for name, checksum in checksums.items()):
        return None  # pending, rolled back, or a checksum only Prisma's tolerance may accept
    if any(name not in checksums for name, *_ in rows):
        return None  # rows only in the database are listed by the full command
    if not quiet:
        from litellm_dbctl.migrate.statusline import summary

        sys.stderr.write(f"migrations: {label} ({len(checksums)})\n")
        sys.stdout.write(summary(len(checksums), label, {"applied": len(checksums)}) + "\n")
    return 0


def _parse(args: list[str]) -> tuple[str, bool] | None:
    """(url, quiet) for a command line the fast path understands, else None."""
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
    if positional != ["migrate", "status"]:
        return None
    if not url:  # the precedence of config.resolve(direct=True) for environment URLs
        url = os.environ.get("DBCTL_DATABASE_URL") or os.environ.get("DATABASE_URL")
        if url and os.environ.get("DIRECT_URL"):
            url = os.environ["DIRECT_URL"]
    if not url or not url.startswith(("postgresql://", "postgres://")):
        return None  # the embedded default: config.py's business
    keys = {part.split("=", 1)[0] for part in url.partition("?")[2].split("&") if part}
    if keys & {"schema", "options"}:
        return None  # a search_path or session options of its own: config.py's business
    return url, quiet  # other Prisma-only parameters make libpq refuse the URL: the full path then


def _packaged_source() -> tuple[str, dict[str, str]] | None:
    """("litellm-proxy-extras VERSION", name -> SHA-256) of the installed migrations."""
    sha256 = _sha256()
    for entry in sys.path:
        directory = os.path.join(entry or ".", "litellm_proxy_extras", "migrations")
        if os.path.isdir(directory):
            break
    else:
        return None
    site = os.path.dirname(os.path.dirname(directory))
    versions = [n[len("litellm_proxy_extras-"):-len(".dist-info")] for n in os.listdir(site)
                if n.startswith("litellm_proxy_extras-") and n.endswith(".dist-info")]
    if len(versions) != 1:
        return None
    checksums: dict[str, str] = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name == "migration_lock.toml":
            with open(path, encoding="utf-8") as lock:
                if '"postgresql"' not in lock.read():
                    return None
            continue
        try:  # os-level reads: 220 files, the bulk of this path's own time
            handle = os.open(os.path.join(path, "migration.sql"), os.O_RDONLY)
        except NotADirectoryError:
            continue
        except OSError:
            return None  # a directory without migration.sql: the full command reports P3015
        try:
            data = b"".join(iter(lambda: os.read(handle, 1 << 20), b""))
        finally:
            os.close(handle)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        checksums[name] = sha256(data).hexdigest()
    return f"litellm-proxy-extras {versions[0]}", checksums


def _sha256():
    """The interpreter's built-in SHA-256 (the same digest as hashlib's) without loading OpenSSL."""
    try:
        from _sha256 import sha256  # Python 3.10, 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # Python 3.12+
        except ImportError:
            from hashlib import sha256
    return sha256


def _sql(name: str) -> bytes:
    """A query file's statement (header and description comments dropped)."""
    with open(os.path.join(QUERIES, *name.split("/")) + ".sql", encoding="utf-8") as query:
        lines = query.read().splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    return "\n".join(lines).replace("%%", "%").encode()


def _ledger(url: str) -> list[tuple[str, str, bool, bool]] | None:
    """(name, checksum, finished, rolled back) per ledger row, oldest first; None on any trouble."""
    libpq = _libpq()
    if libpq is None:
        return None
    import ctypes

    keys = (ctypes.c_char_p * 4)(b"dbname", b"application_name", b"options", None)
    values = (ctypes.c_char_p * 4)(url.encode(), b"dbctl migrate status",
                                   b"-c default_transaction_read_only=on", None)
    conn = libpq.PQconnectdbParams(keys, values, 1)
    try:
        if libpq.PQstatus(conn) != 0:  # CONNECTION_OK
            return None
        rows = _query(libpq, conn, _sql("ledger/rows"), columns=(3, 1, 2, 5))
        if rows is None:  # no ledger table, or no privilege: the full command explains
            return None
        return [(name, checksum, finished is not None, rolled_back is not None)
                for name, checksum, finished, rolled_back in rows]
    finally:
        libpq.PQfinish(conn)


def _query(libpq, conn, sql: bytes, columns: tuple[int, ...] = (0,)) -> list[list] | None:
    result = libpq.PQexec(conn, sql)
    try:
        if libpq.PQresultStatus(result) != 2:  # PGRES_TUPLES_OK
            return None
        return [[None if libpq.PQgetisnull(result, row, column) else libpq.PQgetvalue(result, row, column).decode()
                 for column in columns] for row in range(libpq.PQntuples(result))]
    finally:
        libpq.PQclear(result)


def _libpq():
    """psycopg-binary's own libpq (what the full command uses), else the system's; None if neither."""
    import ctypes

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
    signatures = {
        "PQconnectdbParams": (pointer, [ctypes.POINTER(text), ctypes.POINTER(text), number]),
        "PQstatus": (number, [pointer]), "PQfinish": (None, [pointer]),
        "PQexec": (pointer, [pointer, text]), "PQresultStatus": (number, [pointer]), "PQclear": (None, [pointer]),
        "PQntuples": (number, [pointer]), "PQgetvalue": (text, [pointer, number, number]),
        "PQgetisnull": (number, [pointer, number, number]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib
