"""`dbctl audit`: read LiteLLM_AuditLog, the rows dbctl and LiteLLM's proxy write: list, show, export.

The library (`litellm_dbctl.audit`) is imported inside the command bodies.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Optional

import typer

from litellm_dbctl.cli import common

app = typer.Typer(help="Read the audit trail (LiteLLM_AuditLog): list, show, export.", no_args_is_help=True)

LIST_COLUMNS = ["updated_at", "action", "table", "object", "changed_by", "changed", "id"]
FILTERS: dict[str, tuple[Any, Any]] = {
    "tables": (Optional[list[str]], typer.Option(
        None, "--table", metavar="NAME",
        help="Only rows of these tables (repeat or comma-separate): key, user, team, org, end-user, team-member, "
             "org-member, budget, model, agent, or a LiteLLM table name (LiteLLM_TeamTable).")),
    "objects": (Optional[list[str]], typer.Option(
        None, "--object", metavar="REF",
        help="Only rows about this object (repeatable), named as everywhere: a user by id, SSO id or email; a "
             "team, org or end user by id or alias (a team or org with its memberships); a key by alias, token, "
             "its first 8+ characters or the raw key. With --table, read as that table's kind.")),
    "actions": (Optional[list[str]], typer.Option(
        None, "--action", metavar="ACTION",
        help="Only these actions (repeat or comma-separate): created, updated, deleted, blocked, unblocked, "
             "rotated, kill_switch_fired.")),
    "actors": (Optional[list[str]], typer.Option(
        None, "--actor", metavar="WHO", help="Only changes made by this changed_by (repeatable).")),
    "since": (Optional[str], typer.Option(None, "--since", metavar="WHEN",
                                          help=common.SINCE_HELP + " Default: all.")),
    "until": (Optional[str], typer.Option(None, "--until", metavar="WHEN", help=common.UNTIL_HELP)),
}


def _filters(tables: Optional[list[str]], objects: Optional[list[str]], actions: Optional[list[str]],
             actors: Optional[list[str]], since: Optional[str], until: Optional[str]) -> Any:
    """The options as audit.read.Filters, every value checked (exit 2 naming the flag)."""
    from litellm_dbctl.audit import read
    from litellm_dbctl.common import checks, periods

    for flag, values in (("--object", objects), ("--actor", actors)):
        for value in values or ():
            checks.flag(flag, value, checks.text)
    period = periods.period(since, until, default_since="all")
    return read.Filters(read.tables(tables), tuple(v.strip() for v in objects or () if v.strip()),
                        read.actions(actions), tuple(v for v in actors or () if v), period.since,
                        None if period.open_end else period.until)


with_filters = common.option_group("filters", FILTERS, _filters)


def _short_table(name: str) -> str:
    return name.removeprefix("LiteLLM_")


@app.command("list")
@with_filters
def list_rows(
    ctx: typer.Context,
    limit: int = typer.Option(100, "--limit", "-n", min=1, help="At most this many rows, newest first."),
    *,
    filters: Any,
) -> None:
    """Audit rows, newest first: when, action, table, object (its alias or email where it has one),
    who changed it and which fields changed. JSON: every row whole, before_value and updated_values
    decoded (LiteLLM stores them as JSON text), a raw key never shown. Read-only.

    Example: dbctl audit list --table team --object Research --since 7d
    """
    from litellm_dbctl.audit import export, read

    with common.connect(ctx, read_only=True) as conn:
        rows = read.list_rows(conn, filters, limit=limit)
    common.warn_if_cut(ctx, rows, limit, "audit rows")
    table = [{"updated_at": r.updated_at, "action": r.action, "table": _short_table(r.table_name),
              "object": r.object_name or common.shown_id("key" if r.table_name == read.OBJECT_KINDS["key"] else "",
                                                         r.object_id),
              "changed_by": r.changed_by, "changed": ", ".join(r.changes), "id": r.id} for r in rows]
    records = [export.record(r) for r in rows]
    if common.settings(ctx).output == "table":
        common.emit(ctx, table, LIST_COLUMNS, whole=["id"], prose=["changed"], optional=["changed"])
        if not rows:
            common.line(ctx, "no audit rows match")
    else:
        common.emit(ctx, records, list(export.COLUMNS))


@app.command("show")
def show(
    ctx: typer.Context,
    row_id: str = typer.Argument(..., metavar="ID", help="The audit row's id (or its first 8+ characters)."),
) -> None:
    """One audit row whole: who, when, what, the values before and after, and the fields that
    changed. JSON: the row with before_value, updated_values and changes {field: {old, new}}. Read-only.

    Example: dbctl audit show 3f1c9a2e
    """
    from litellm_dbctl.audit import export, read
    from litellm_dbctl.common import checks

    checks.flag("ID", row_id, checks.text)
    with common.connect(ctx, read_only=True) as conn:
        row = read.show(conn, row_id)
    diff = [{"field": name, "before": old, "after": new} for name, (old, new) in row.changes.items()]
    s = common.settings(ctx)
    if s.output == "json":
        common.dump_json({**export.record(row), "changes": {d["field"]: {"old": d["before"], "new": d["after"]}
                                                            for d in diff}})
        return
    if s.output == "csv":
        common.emit(ctx, diff, ["field", "before", "after"])
        return
    head = export.record(row)
    common.emit(ctx, [{"field": k, "value": head[k]} for k in ("id", "updated_at", "action", "table_name",
                                                                "object_id", "object_name", "changed_by",
                                                                "changed_by_api_key")],
                ["field", "value"], whole=["value"])
    sys.stdout.write("\n")
    for name in ("before_value", "updated_values"):
        sys.stdout.write(f"{name}: {export.json_text(head[name])}\n")
    if diff:
        sys.stdout.write("\n")
        common.emit(ctx, diff, ["field", "before", "after"], prose=["before", "after"])


@app.command("export")
@with_filters
def export_rows(
    ctx: typer.Context,
    to: str = typer.Option("-", "--to", metavar="FILE|-", help="Write here (atomically), or - for stdout."),
    fmt: str = typer.Option("jsonl", "--format", metavar="jsonl|csv",
                            help="JSON lines, or CSV with a header (JSON values as JSON text)."),
    *,
    filters: Any,
) -> None:
    """Stream every matching audit row, oldest first, as JSON lines or CSV in flat memory (a
    server-side cursor), with the fields list/show print. Read-only.

    Example: dbctl audit export --since 2026-01-01 --until 2026-03-31 --format csv --to q1-audit.csv
    """
    from litellm_dbctl.audit import export, read
    from litellm_dbctl.common.errors import InvalidInput

    if fmt not in export.FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(export.FORMATS)}, not {fmt[:40]!r}")
    if to != "-":
        common.check_destination(to)
    with common.connect(ctx, read_only=True) as conn:
        if to == "-":
            try:
                result = export.write(sys.stdout, read.stream(conn, filters), fmt)
                sys.stdout.flush()
            except BrokenPipeError:  # the reader stopped (`| head`): end quietly
                conn.close()
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return
        else:
            partial = f"{to}.partial"
            try:
                with open(partial, "w", encoding="utf-8", newline="") as out:
                    result = export.write(out, read.stream(conn, filters), fmt)
                os.replace(partial, to)
            finally:
                if os.path.exists(partial):
                    os.unlink(partial)
    common.info(ctx, f"dbctl: exported {result.rows:,} audit rows" + (f" to {to}" if to != "-" else ""))

