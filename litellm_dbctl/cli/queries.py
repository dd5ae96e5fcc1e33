"""`dbctl queries`: the named SQL statements dbctl runs.

The query registry (and, for `check`, sqlglot) is imported inside the command bodies, so
`dbctl queries --help` does not load it.
"""

from __future__ import annotations

from typing import Optional

import typer

from litellm_dbctl.cli import common
from litellm_dbctl.common.errors import ExitCode, InvalidInput

app = typer.Typer(help="The named SQL statements dbctl runs: list, show, check.", no_args_is_help=True)


@app.command("list")
def list_(ctx: typer.Context, area: Optional[str] = typer.Argument(None, help="Only this area (e.g. ledger).")) -> None:
    """Every named statement: name, mode, required migration and description. An area with no
    statements is exit 2 naming the closest area.

    Example: dbctl queries list ledger
    """
    from litellm_dbctl.db import sqlfiles

    rows = [
        {"name": q.name, "mode": q.mode, "returns": q.returns, "requires": q.requires or "none",
         "description": q.summary}
        for q in sqlfiles.registry().values() if area is None or q.name.startswith(area.rstrip("/") + "/")
    ]
    if not rows and area is not None:
        import difflib  # deferred: only a mistyped area needs it

        areas = sorted({name.split("/", 1)[0] for name in sqlfiles.registry()})
        close = difflib.get_close_matches(area, areas, n=1)
        raise InvalidInput(f"no query area {area!r}", hint=f"did you mean {close[0]}?" if close
                           else f"areas: {', '.join(areas)}")
    common.emit(ctx, rows, ["name", "mode", "requires", "description"])


@app.command("show")
def show(ctx: typer.Context, name: str = typer.Argument(..., help="Query name, e.g. ledger/rows.")) -> None:
    """A statement's header, description, parameters and SQL."""
    from litellm_dbctl.db import sqlfiles

    query = sqlfiles.registry().get(name)
    if query is None:
        import difflib  # deferred: only a mistyped name needs it

        close = difflib.get_close_matches(name, list(sqlfiles.registry()), n=3)
        raise InvalidInput(f"no query named {name!r}", hint=f"did you mean {', '.join(close)}?" if close
                           else "`dbctl queries list` lists them")
    payload = {"name": query.name, "path": str(query.path), "mode": query.mode, "returns": query.returns,
               "requires": query.requires, "parameters": list(query.params), "identifiers": list(query.identifiers),
               "variants": [list(v) for v in query.variants], "description": query.description, "sql": query.sql}
    s = common.settings(ctx)
    if s.output == "json":
        common.dump_json(payload)
        return
    typer.echo(f"-- {query.name}  ({query.path})")
    typer.echo(f"-- requires: {query.requires or 'none'}\n-- mode: {query.mode}\n-- returns: {query.returns}")
    typer.echo(f"-- parameters: {', '.join(query.params) or '(none)'}")
    if query.identifiers:
        typer.echo(f"-- identifiers: {', '.join(query.identifiers)}")
    for variant in query.variants:
        typer.echo(f"-- variant: {', '.join(variant)}")
    for line in query.description.splitlines():
        typer.echo(f"-- {line}")
    typer.echo(query.sql)


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Check every statement against the live database: its file header is well-formed, it parses
    (sqlglot), every table and column it names exists, and it PREPAREs (in a rolled-back
    transaction). Fragments are checked inside the statements that include them. Statements whose
    required migration the database lacks are skipped and listed. Exit 4 on any failure.
    """
    from litellm_dbctl.db import querycheck, sqlfiles

    loaded, broken = sqlfiles.load_all()
    findings = [querycheck.Finding(name, "header", error.message) for name, error in broken.items()]
    with common.connect(ctx, read_only=True) as conn:
        applied = sqlfiles.ledger_state(conn).applied
        queries = [q for q in loaded.values() if q.mode != "fragment"]  # fragments: inside the statements
        runnable = [q for q in queries if q.requires is None or q.requires in applied]
        skipped = [q for q in queries if q not in runnable]
        findings += querycheck.check(conn, runnable)
    rows = [{"query": f.query, "stage": f.stage, "problem": f.problem} for f in findings]
    if rows:
        common.emit(ctx, rows, ["query", "stage", "problem"], report=True,
                    json_payload={"ok": False, "checked": len(runnable), "skipped": [q.name for q in skipped],
                                  "findings": rows})
    elif common.settings(ctx).output == "json":
        common.emit(ctx, [], json_payload={"ok": True, "checked": len(runnable),
                                           "skipped": [q.name for q in skipped], "findings": []})
    common.line(ctx, f"checked {len(runnable)} statements: {len(findings)} problem(s)"
                + (f"; skipped {len(skipped)} needing migrations this database lacks" if skipped else ""))
    if findings:
        common.name_found(ctx, f"{len(findings)} statement problem(s)", [f"{f.query} ({f.stage})" for f in findings])
        raise typer.Exit(int(ExitCode.INTEGRITY))
