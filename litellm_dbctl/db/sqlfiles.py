"""The query registry: every SQL statement dbctl runs, one named, version-checked file each.

`queries/<area>/<name>.sql` is named `<area>/<name>`. Its header is `-- key: value` lines
(`requires`, `mode`, `returns`, optionally `identifiers` and `variant`), then comment lines that
describe it, then one statement with psycopg named placeholders `%(name)s`.

Identifiers (`{name}`, declared in `identifiers: a, b`) are composed with psycopg.sql.Identifier.
A statement that runs on one of several tables lists each allowed binding on a `variant:` line,
one name per identifier in their declared order:

    -- identifiers: table, id
    -- variant: LiteLLM_UserTable, user_id
    -- variant: LiteLLM_TeamTable, team_id

so the names it can touch are in the file, never taken from input (a literal brace in such a
statement is written doubled, `'/videos/{{video_id}}'`, as psycopg.sql reads it): a run with any other binding is
refused before anything is sent, and `queries check` PREPAREs every variant. Without `variant:`
lines the identifiers take names dbctl makes or is configured with (a scratch schema, an index).

A file of `mode: fragment` holds lines that several statements share (LiteLLM's counting rules for
a spend log, say): a line `-- include: <fragment name>` in a statement is replaced by them, indented
as the include line is, when the statement is parsed. So a rule is written once, and `dbctl queries
show` prints every statement whole. A fragment includes nothing, and a statement that includes one
must require at least the migration the fragment requires.

A file is parsed when first used, once per process, with a few regexes (no sqlglot on this path). Before a statement
runs its `requires` migration is checked against the database's ledger, read once per connection.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common import releases
from litellm_dbctl.common.errors import IntegrityError, QueryDefinitionError, SchemaTooOld

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("dbctl")
MODES = ("read", "write", "fragment")
RETURNS = ("rows", "row", "value", "rowcount", "none")
HEADER = re.compile(r"^--\s*(?P<key>[a-z_]+)\s*:\s*(?P<value>.*?)\s*$")
PARAM = re.compile(r"%\((?P<name>[A-Za-z_][A-Za-z0-9_]*)\)s")
# `{name}`, not `{{name}}`: in a statement with identifiers a literal brace is doubled (psycopg.sql.SQL.format).
IDENTIFIER = re.compile(r"(?<!\{)\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}(?!\})")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
KNOWN_KEYS = frozenset({"requires", "mode", "returns", "identifiers", "variant"})
REPEATABLE = frozenset({"variant"})
INCLUDE = re.compile(r"^(?P<indent>[ \t]*)-- include: (?P<name>[a-z0-9_]+(?:/[a-z0-9_]+)*)[ \t]*$", re.M)


@dataclass(frozen=True)
class Query:
    name: str
    path: Path
    requires: str | None  # a LiteLLM migration name, or None for `none`
    mode: str
    returns: str
    description: str
    sql: str
    params: tuple[str, ...]
    identifiers: tuple[str, ...] = ()
    variants: tuple[tuple[str, ...], ...] = ()  # the allowed bindings of `identifiers`, in their order

    @property
    def summary(self) -> str:
        """The description on one line, for listings."""
        return " ".join(self.description.split())


def queries_dir() -> Path:
    """`queries/` inside an installed wheel, else at the top of a source checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "queries", package.parent / "queries"):
        if candidate.is_dir():
            return candidate
    raise QueryDefinitionError(f"no queries/ directory beside {package}")


def parse(text: str, name: str, path: Path) -> Query:
    """Parse one query file. Raises QueryDefinitionError naming the file and what is wrong."""
    meta: dict[str, str] = {}
    variant_lines: list[tuple[int, str]] = []
    description: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines) and lines[index].startswith("--"):
        match = HEADER.match(lines[index])
        if match and not description and match["key"] in REPEATABLE:
            variant_lines.append((index + 1, match["value"]))
        elif match and not description and match["key"] in KNOWN_KEYS:
            if match["key"] in meta:
                raise QueryDefinitionError(f"{path}:{index + 1}: duplicate header {match['key']!r}")
            meta[match["key"]] = match["value"]
        elif match and not description and match["key"] not in KNOWN_KEYS and ":" in lines[index][:30]:
            raise QueryDefinitionError(f"{path}:{index + 1}: unknown header {match['key']!r}")
        else:
            description.append(lines[index][2:].strip())
        index += 1
    sql = "\n".join(lines[index:]).strip().rstrip(";").strip()
    if meta.get("mode") == "fragment":  # lines to paste: the first keeps its indent like the rest
        sql = "\n".join(lines[index:]).strip("\n").rstrip()
        meta.setdefault("returns", "none")
    for key in ("requires", "mode", "returns"):
        if not meta.get(key):
            raise QueryDefinitionError(f"{path}: missing header '-- {key}: ...'")
    if meta["mode"] not in MODES:
        raise QueryDefinitionError(f"{path}: mode must be one of {', '.join(MODES)}, not {meta['mode']!r}")
    if meta["returns"] not in RETURNS:
        raise QueryDefinitionError(f"{path}: returns must be one of {', '.join(RETURNS)}, not {meta['returns']!r}")
    if not sql:
        raise QueryDefinitionError(f"{path}: no SQL after the header")
    requires = None if meta["requires"] == "none" else meta["requires"]
    if requires is not None and not re.fullmatch(r"\d{14}_\w+", requires):
        raise QueryDefinitionError(f"{path}: requires must be a migration name or 'none', not {requires!r}")
    if meta["mode"] == "fragment" and (INCLUDE.search(sql) or meta["returns"] != "none"):
        raise QueryDefinitionError(f"{path}: a fragment returns nothing and includes no other fragment")
    sql = _expand(sql, path, requires)
    identifiers = tuple(i.strip() for i in meta.get("identifiers", "").split(",") if i.strip())
    used = {m["name"] for m in IDENTIFIER.finditer(sql)} if identifiers else set()
    if set(identifiers) != used:
        raise QueryDefinitionError(f"{path}: identifiers header {sorted(identifiers)} != used {sorted(used)}")
    if identifiers and re.search(r"[{}]", IDENTIFIER.sub("", sql).replace("{{", "").replace("}}", "")):
        raise QueryDefinitionError(f"{path}: a literal brace in a statement with identifiers is written doubled "
                                   "({{ }}), as psycopg.sql reads it")
    variants = _variants(variant_lines, identifiers, path)
    params = tuple(dict.fromkeys(m["name"] for m in PARAM.finditer(sql)))
    stray = re.search(r"%(?!%)", PARAM.sub("", sql).replace("%%", ""))
    if stray:
        raise QueryDefinitionError(f"{path}: a placeholder that is not %(name)s, or a stray % (write %% for a literal percent)")
    if re.search(r"(?<![\w$])\$\d+\b", sql):
        raise QueryDefinitionError(f"{path}: positional $n placeholders; use %(name)s")
    return Query(name, path, requires, meta["mode"], meta["returns"], "\n".join(description).strip(),
                 sql, params, identifiers, variants)


def _variants(lines: Sequence[tuple[int, str]], identifiers: tuple[str, ...], path: Path) -> tuple[tuple[str, ...], ...]:
    """The `variant:` lines as tuples of names, one per identifier."""
    variants: list[tuple[str, ...]] = []
    for number, text in lines:
        names = tuple(name.strip() for name in text.split(","))
        if not identifiers:
            raise QueryDefinitionError(f"{path}:{number}: a variant needs an identifiers header")
        if len(names) != len(identifiers) or not all(NAME.fullmatch(name) for name in names):
            raise QueryDefinitionError(f"{path}:{number}: a variant names one table or column for each of "
                                       f"{', '.join(identifiers)}, comma-separated, not {text!r}")
        if names in variants:
            raise QueryDefinitionError(f"{path}:{number}: variant {text!r} listed twice")
        variants.append(names)
    return tuple(variants)


def _expand(sql: str, path: Path, requires: str | None) -> str:
    """`sql` with each `-- include: NAME` line replaced by fragment NAME's lines."""
    def fragment(match: re.Match[str]) -> str:
        included = get(match["name"])
        if included.mode != "fragment":
            raise QueryDefinitionError(f"{path}: includes {included.name}, which is not a fragment")
        # migration names start with their timestamp: a later name is a later migration
        if included.requires and (requires is None or requires < included.requires):
            raise QueryDefinitionError(f"{path}: includes {included.name}, which requires {included.requires}; "
                                       "require that migration or a later one")
        return "\n".join(match["indent"] + line if line else line for line in included.sql.splitlines())

    return INCLUDE.sub(fragment, sql)


def registry() -> dict[str, Query]:
    """Every well-formed query, by name. Parsed once per process."""
    return load_all()[0]


@cache
def load_all() -> tuple[dict[str, Query], dict[str, QueryDefinitionError]]:
    """Every query that parses, and the error of each file that does not (`queries check` lists
    them; running one raises its error). One bad file does not take the others down."""
    root = queries_dir()
    found: dict[str, Query] = {}
    problems: dict[str, QueryDefinitionError] = {}
    for path in sorted(root.rglob("*.sql")):
        name = path.relative_to(root).with_suffix("").as_posix()
        try:
            found[name] = parse(path.read_text(encoding="utf-8"), name, path)
        except QueryDefinitionError as exc:
            problems[name] = exc
    return found, problems


@cache
def get(name: str) -> Query:
    """One query by name: only its own file is read and parsed (a command runs a handful of the
    ~150, and parsing them all costs more than the process start)."""
    root = queries_dir()
    path = root / f"{name}.sql"
    if not re.fullmatch(r"[a-z0-9_]+(/[a-z0-9_]+)*", name) or not path.is_file():
        raise QueryDefinitionError(f"no query named {name!r} under {root}")
    return parse(path.read_text(encoding="utf-8"), name, path)


# -- running ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerState:
    """What the migration ledger says, read once per connection for `requires` checks."""

    exists: bool
    applied: frozenset[str]
    failed: tuple[str, ...]
    tables: frozenset[str] = frozenset()  # the release marker tables present (common/releases.py)


_ledgers: weakref.WeakKeyDictionary[Any, LedgerState] = weakref.WeakKeyDictionary()
_warned: set[str] = set()  # the newer-than-known migrations already named on stderr by this process


def ledger_state(conn: psycopg.Connection) -> LedgerState:
    """The ledger as of the first call on `conn`. A database migrated past the newest LiteLLM release
    dbctl knows is named on stderr here, once per process: every command reads the ledger."""
    state = _ledgers.get(conn)
    if state is None:
        presence = _execute(conn, get("ledger/presence"), {"tables": list(releases.MARKER_TABLES)}).fetchone()
        tables = frozenset(presence["tables"])
        if not presence["exists"]:
            state = LedgerState(False, frozenset(), (), tables)
        else:
            rows = _execute(conn, get("ledger/names"), {}).fetchall()
            state = LedgerState(
                True,
                frozenset(r["migration_name"] for r in rows if r["applied"]),
                tuple(r["migration_name"] for r in rows if r["failed"]),
                tables,
            )
        _ledgers[conn] = state
        newer = releases.newer_than_known(state.applied, state.tables)
        if newer and newer[-1] not in _warned:
            _warned.add(newer[-1])
            log.warning(releases.newer_warning(newer))
    return state


def new_run() -> None:
    """Name a newer-than-known database again: the CLI calls it per command (tests run many in one process)."""
    _warned.clear()


def forget_ledger(conn: psycopg.Connection) -> None:
    """Call after changing the ledger (migrate deploy/resolve) so the next check re-reads it."""
    _ledgers.pop(conn, None)


def supported(conn: psycopg.Connection, name: str) -> bool:
    """Whether the database has the migration query `name` requires: for optional steps that a
    schema older than their table skips rather than fails."""
    query = get(name)
    return query.requires is None or query.requires in ledger_state(conn).applied


def check_requires(conn: psycopg.Connection, query: Query) -> None:
    if query.requires is None:
        return
    state = ledger_state(conn)
    if query.requires not in state.applied:
        raise SchemaTooOld(
            f"{query.name} needs LiteLLM migration {query.requires}, which this database has not applied",
            hint="run `dbctl migrate deploy`",
        )
    if query.mode == "write" and state.failed:
        raise IntegrityError(
            f"refusing to write: migration {state.failed[0]} failed in this database",
            hint="see `dbctl migrate status`",
        )


def _compose(query: Query, identifiers: Mapping[str, str] | None) -> Any:
    return _compose_sql(query, identifiers) if query.identifiers or identifiers else query.sql


def _compose_sql(query: Query, identifiers: Mapping[str, str] | None) -> Any:
    """The statement as psycopg.sql.Composable, its `{name}` identifiers bound (quoted by psycopg)."""
    from psycopg import sql  # deferred: psycopg (~110 ms); reading and listing queries needs none

    given = dict(identifiers or {})
    if set(given) != set(query.identifiers):
        raise QueryDefinitionError(f"{query.name}: identifiers {sorted(given)} != declared {list(query.identifiers)}")
    if query.variants and tuple(given[name] for name in query.identifiers) not in query.variants:
        raise QueryDefinitionError(f"{query.name}: {', '.join(given.values())} is not one of its variants")
    if not given:
        return sql.SQL(query.sql)
    return sql.SQL(query.sql).format(**{k: sql.Identifier(v) for k, v in given.items()})


def _check_params(query: Query, params: Mapping[str, Any]) -> None:
    missing = [p for p in query.params if p not in params]
    unknown = [p for p in params if p not in query.params]
    if missing or unknown:
        raise QueryDefinitionError(
            f"{query.name}: " + "; ".join(
                part for part in (
                    f"missing parameter(s) {', '.join(missing)}" if missing else "",
                    f"unknown parameter(s) {', '.join(unknown)}" if unknown else "",
                ) if part
            )
        )


def _execute(conn: psycopg.Connection, query: Query, params: Mapping[str, Any], *,
             identifiers: Mapping[str, str] | None = None, row_type: type | None = None,
             lock: bool = False) -> Any:
    if query.mode == "fragment":
        raise QueryDefinitionError(f"{query.name} is a fragment: it runs only inside the statements that include it")
    _check_params(query, params)
    statement = _compose(query, identifiers)
    if lock:
        if query.mode != "read" or query.returns != "rows":
            raise QueryDefinitionError(f"{query.name}: only a read query that returns rows can lock them")
        from psycopg import sql  # deferred: psycopg, as above

        statement = sql.Composed([sql.SQL(statement) if isinstance(statement, str) else statement,
                                  sql.SQL("\nFOR NO KEY UPDATE")])
    cursor = conn.cursor(row_factory=_row_factory(row_type))
    cursor.execute(statement, params)
    return cursor


def _row_factory(row_type: type | None) -> Any:
    """dict rows by default, whatever the connection's own row factory; frozen dataclasses on
    request; `tuple`: named tuples (attribute access, and the cheapest rows psycopg builds, for
    results of 10^5 rows)."""
    from psycopg.rows import class_row, dict_row, namedtuple_row  # deferred: psycopg, as above

    if row_type is tuple:
        return namedtuple_row
    return class_row(row_type) if row_type else dict_row


def run(
    conn: psycopg.Connection,
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    identifiers: Mapping[str, str] | None = None,
    row_type: type | None = None,
    lock: bool = False,
) -> Any:
    """Run query `name` and return what its `returns` header promises.

    rows -> list of dicts (or `row_type` instances); row -> one or None; value -> the first column
    of the first row or None; rowcount -> int; none -> None. `lock` runs a read query with `FOR NO
    KEY UPDATE` appended: the rows it returns stay locked until the transaction ends (in the
    query's ORDER BY, which for a lock should be the key order proxies lock in), so a dry run
    can read the same file without locking.
    """
    query = get(name)
    check_requires(conn, query)
    cursor = _execute(conn, query, params or {}, identifiers=identifiers, row_type=row_type, lock=lock)
    if query.returns == "rows":
        return cursor.fetchall()
    if query.returns == "row":
        return cursor.fetchone()
    if query.returns == "value":
        row = cursor.fetchone()
        if row is None:
            return None
        return next(iter(row.values())) if isinstance(row, dict) else row[0]
    if query.returns == "rowcount":
        return cursor.rowcount
    return None


def run_many(conn: psycopg.Connection, name: str, params_seq: Iterable[Mapping[str, Any]]) -> int:
    """executemany of a write query; returns the total rowcount."""
    query = get(name)
    check_requires(conn, query)
    batch = list(params_seq)
    for params in batch[:1]:
        _check_params(query, params)
    if not batch:
        return 0
    with conn.cursor() as cursor:
        cursor.executemany(query.sql, batch)
        return cursor.rowcount


@contextmanager
def copy(conn: psycopg.Connection, name: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
    """A COPY ... FROM STDIN / TO STDOUT statement; yields psycopg's Copy object."""
    query = get(name)
    check_requires(conn, query)
    params = params or {}
    _check_params(query, params)
    with conn.cursor() as cursor, cursor.copy(query.sql, params) as copy_:
        yield copy_


# How copy_out renders a read query's rows on the server. JSON lines use CSV mode with a quote and a
# delimiter that JSON text never holds unescaped (\x01, \x02), so each JSON text is written verbatim.
COPY_OUT: dict[str, tuple[str, str]] = {
    "csv": ("COPY (", ") TO STDOUT WITH (FORMAT csv, HEADER)"),
    "jsonl": ("COPY (SELECT row_to_json(r)::text FROM (",
              ") AS r) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"),
}


@contextmanager
def copy_out(conn: psycopg.Connection, name: str, params: Mapping[str, Any], fmt: str, *,
             identifiers: Mapping[str, str] | None = None) -> Iterator[Any]:
    """Stream the rows of read query `name` as `fmt` (a COPY_OUT key), rendered by the server: constant
    memory at any size and faster than a server-side cursor. The query file stays a plain SELECT, so
    `queries check` PREPAREs it like any other."""
    query = get(name)
    if query.mode != "read" or query.returns != "rows":
        raise QueryDefinitionError(f"{name}: copy_out needs a read query that returns rows")
    if fmt not in COPY_OUT:
        raise QueryDefinitionError(f"copy_out: format must be one of {', '.join(COPY_OUT)}, not {fmt!r}")
    check_requires(conn, query)
    _check_params(query, params)
    from psycopg import sql  # deferred: psycopg, as above

    before, after = COPY_OUT[fmt]
    statement = sql.Composed([sql.SQL(before), _compose_sql(query, identifiers), sql.SQL(after)])
    with conn.cursor() as cursor, cursor.copy(statement, params) as copy_:
        yield copy_


def stream(conn: psycopg.Connection, name: str, params: Mapping[str, Any], *, batch: int = 2000) -> Iterator[Any]:
    """The rows of read query `name` as dicts, fetched `batch` at a time through a server-side cursor
    (the connection must be in a transaction): memory stays flat at any size, and each row is the
    caller's to render (COPY renders on the server: `copy_out`)."""
    query = get(name)
    if query.mode != "read" or query.returns != "rows":
        raise QueryDefinitionError(f"{name}: stream needs a read query that returns rows")
    check_requires(conn, query)
    _check_params(query, params)
    with conn.cursor(name=f"dbctl_{name.replace('/', '_')}", row_factory=_row_factory(None)) as cursor:
        cursor.itersize = batch
        cursor.execute(_compose(query, None), params)
        yield from cursor


def positional(query: Query) -> tuple[str, Sequence[str]]:
    """The statement with `$1..$n` for its named parameters, for PREPARE (`queries check`)."""
    order = list(query.params)
    return PARAM.sub(lambda m: f"${order.index(m['name']) + 1}", query.sql).replace("%%", "%"), order


def bindings(query: Query) -> list[dict[str, str]]:
    """Each allowed binding of the statement's identifiers: its variants, or with none listed the one
    binding (if any) it is checked under, every identifier standing for its own name."""
    if query.variants:
        return [dict(zip(query.identifiers, names)) for names in query.variants]
    return [{name: name for name in query.identifiers}]


def bind(text: str, identifiers: Mapping[str, str]) -> str:
    """`text` with each declared `{name}` replaced by its identifier, double-quoted (names are plain,
    as `variant:` lines require), and doubled braces made single: the statement as psycopg sends it,
    which `queries check` parses and PREPAREs."""
    if not identifiers:
        return text
    bound = IDENTIFIER.sub(lambda m: f'"{identifiers[m["name"]]}"' if m["name"] in identifiers else m[0], text)
    return bound.replace("{{", "{").replace("}}", "}")
