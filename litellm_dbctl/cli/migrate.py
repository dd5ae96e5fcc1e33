"""`dbctl migrate`: LiteLLM's Prisma migrations with no Node, on Prisma's own ledger.

Each command imports the engine it needs (and so psycopg) in its body: `dbctl --help` and the
other groups do not pay for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from litellm_dbctl.cli import common, progress
from litellm_dbctl.common.errors import ExitCode

if TYPE_CHECKING:
    from litellm_dbctl.migrate.schema import Difference
    from litellm_dbctl.migrate.source import Source

app = typer.Typer(help="Apply LiteLLM's migrations with no Node or Prisma; status, resolve, lint.",
                  no_args_is_help=True, add_completion=False)

MIGRATIONS_DIR = typer.Option(None, "--migrations-dir", metavar="DIR", file_okay=False,
                              help="A Prisma-layout migrations directory. Default: the installed litellm-proxy-extras.")


MAX_STATEMENT_TIMEOUT = 2147483.0  # seconds: PostgreSQL's largest lock_timeout/statement_timeout (2^31-1 ms)


def _statement_lock_timeout(default: str) -> Any:  # a typer.Option
    """PostgreSQL's lock_timeout, with a unit (a bare number was PostgreSQL's milliseconds)."""
    return common.span_option(default, "--statement-lock-timeout", maximum=MAX_STATEMENT_TIMEOUT, former_unit="ms",
                              postgres=True, help="PostgreSQL lock_timeout per statement; a statement that hits it "
                                                  "is retried with backoff.")


def _source(ctx: typer.Context, directory: Optional[Path]) -> Source:
    from litellm_dbctl.migrate.source import load_source  # the engine: only when a command runs

    source = load_source(directory)
    common.info(ctx, f"migrations: {source.label} ({len(source.migrations)})")
    return source


@app.command("status")
def status(ctx: typer.Context, migrations_dir: Optional[Path] = MIGRATIONS_DIR) -> None:
    """Every migration's state, and a summary line.

    States: applied, pending, failed, rolled back, modified after apply (its checksum differs), or
    only in the database. Exit 0 up to date, 3 pending, 4 failed or
    modified (or tables without a ledger: baseline needed). The table lists what is not applied;
    -v lists everything.

    Example: dbctl migrate status --json
    """
    from litellm_dbctl.common import releases
    from litellm_dbctl.migrate import ledger  # the engine: only when the command runs

    source = _source(ctx, migrations_dir)
    with common.connect(ctx, read_only=True, direct=True) as conn:
        result = ledger.status(conn, source)
    s = common.settings(ctx)
    shown = result.migrations if s.verbose or s.output != "table" else \
        [m for m in result.migrations if m.state != ledger.APPLIED]
    common.emit(ctx, [{"migration": m.name, "state": m.state, "applied_at": m.applied_at, "detail": m.detail}
                      for m in shown],
                ["migration", "state", "applied_at", "detail"],
                json_payload=result.as_json(), report=True, prose=["detail"])
    common.line(ctx, result.summary())
    newer = releases.newer_than_known(m.name for m in result.migrations if m.state == ledger.DB_ONLY)
    if newer:  # still exit 0: nothing to apply; the rules are what may be out of date
        common.info(ctx, f"note: {len(newer)} migration(s) only in the database are newer than LiteLLM "
                         f"{releases.NEWEST}, the newest release dbctl knows ({', '.join(newer)}): "
                         "upgrade dbctl; see `dbctl db doctor`")
    if result.exit_code:
        common.name_found(ctx, result.summary(),
                          [f"{m.name} ({m.state})" for m in result.migrations if m.state != ledger.APPLIED])
    common.exit_with(result.exit_code)


@app.command("deploy")
def deploy(
    ctx: typer.Context,
    migrations_dir: Optional[Path] = MIGRATIONS_DIR,
    to: Optional[str] = typer.Option(None, "--to", metavar="NAME", help="Stop after this migration."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would run; change nothing (exit 3 if any)."),
    sql: bool = typer.Option(False, "--sql", help="With --dry-run: print the SQL that would run."),
    allow_modified: bool = typer.Option(False, "--allow-modified",
                                        help="Deploy even though an applied migration file was modified."),
    lock_timeout: float = common.LOCK_TIMEOUT,
    statement_lock_timeout: str = _statement_lock_timeout("10s"),
    statement_timeout: Optional[str] = common.span_option(
        None, "--statement-timeout", maximum=MAX_STATEMENT_TIMEOUT, former_unit="ms", postgres=True,
        help="PostgreSQL statement_timeout per statement (default: DBCTL_STATEMENT_TIMEOUT, else none). A "
             "migration it cancels is rolled back whole, recorded rolled back, and run again by the next deploy."),
) -> None:
    """Apply pending migrations in order.

    Each file is atomic with its ledger row; all run under Prisma's and LiteLLM's advisory locks
    (polled up to --lock-timeout, then exit 5). Refuses (exit 4) while a migration is failed or an
    applied file was modified.

    Example: dbctl migrate deploy -q
    """
    from litellm_dbctl.migrate.deploy import deploy as apply  # the engine and psycopg: only when it runs

    target = common.target(ctx, direct=True)  # no database configured: say so before anything else
    source = _source(ctx, migrations_dir)
    bar = progress.bar(ctx, "migrations")
    try:
        result = apply(target, source, to=to, dry_run=dry_run,
                       allow_modified=allow_modified, lock_timeout=lock_timeout,
                       statement_lock_timeout=statement_lock_timeout, statement_timeout=statement_timeout,
                       progress=bar)
    finally:
        if bar is not None:
            bar.close()
    s = common.settings(ctx)
    if dry_run:
        head = f"{len(result.pending)} migration(s) would be applied"
        if s.output == "json":
            common.dump_json({"dry_run": True, "source": result.source, "pending": list(result.pending)})
        elif not s.quiet:
            for name in result.pending:
                typer.echo(name)
                if sql:
                    typer.echo(source.get(name).sql.rstrip() + "\n")
            typer.echo(head, err=True)
        if result.pending:
            common.name_found(ctx, head, list(result.pending))
        common.exit_with(int(ExitCode.PENDING) if result.pending else 0)
        return
    if s.output == "json":
        common.dump_json({"dry_run": False, "source": result.source, "applied": list(result.applied),
                          "seconds": round(result.seconds, 3)})
    elif result.applied:
        common.line(ctx, f"applied {len(result.applied)} migration{'s' if len(result.applied) != 1 else ''} "
                         f"in {result.seconds:.1f} s")
    else:
        common.line(ctx, "no pending migrations to apply")


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    applied: Optional[str] = typer.Option(None, "--applied", metavar="NAME",
                                          help="Record NAME as applied (you finished it by hand, or the schema "
                                               "already has it)."),
    rolled_back: Optional[str] = typer.Option(None, "--rolled-back", metavar="NAME",
                                              help="Record the failed NAME as rolled back (you undid its partial "
                                                   "changes); deploy runs it again."),
    migrations_dir: Optional[Path] = MIGRATIONS_DIR,
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and report; change nothing (exit 3)."),
    lock_timeout: float = common.LOCK_TIMEOUT,
) -> None:
    """Record a failed migration as rolled back or applied, as `prisma migrate resolve` does.

    Edits the ledger only: never runs or undoes SQL, never overwrites history (old rows stay,
    marked rolled back; a new row records the resolution). Exit 2 for an unknown name (P3017), a
    migration already applied (P3008), or one that is not failed (P3011/P3012).

    Example: dbctl migrate resolve --rolled-back 20250326162113_baseline
    """
    from litellm_dbctl.migrate.resolve import resolve as record  # the engine: only when it runs

    source = _source(ctx, migrations_dir)
    result = record(common.target(ctx, direct=True), source, applied=applied, rolled_back=rolled_back,
                    dry_run=dry_run, lock_timeout=lock_timeout)
    if common.settings(ctx).output == "json":
        common.dump_json(result)
    else:
        undone = f"; {result.rows_rolled_back} failed row(s) marked rolled back" if result.rows_rolled_back else ""
        common.line(ctx, f"{'would record' if dry_run else 'recorded'} {result.migration} as {result.resolved}{undone}")
    common.exit_with(int(ExitCode.PENDING) if dry_run else 0)


SHADOW_URL = typer.Option(None, "--shadow-url", metavar="URL",
                          help="Replay the migrations in a new schema of this database (dropped afterwards) instead "
                               "of a scratch database on the same server.")


def _differences(ctx: typer.Context, differences: tuple[Difference, ...]) -> None:
    common.emit(ctx, [{"kind": d.kind, "name": d.name, "change": d.change, "detail": d.describe()}
                      for d in differences], ["kind", "name", "change", "detail"], report=True, prose=["detail"])


def _differences_json(differences: tuple[Difference, ...]) -> list[dict[str, Any]]:
    return [{"kind": d.kind, "name": d.name, "change": d.change, "detail": d.describe(),
             "expected": d.expected, "actual": d.actual} for d in differences]


@app.command("baseline")
def baseline(
    ctx: typer.Context,
    migrations_dir: Optional[Path] = MIGRATIONS_DIR,
    to: Optional[str] = typer.Option(None, "--to", metavar="NAME",
                                     help="The schema is at this migration (an older release), not the newest."),
    shadow_url: Optional[str] = SHADOW_URL,
    dry_run: bool = typer.Option(False, "--dry-run", help="Compare and report; record nothing (exit 3 on a match)."),
    lock_timeout: float = common.LOCK_TIMEOUT,
) -> None:
    """Adopt a database whose schema exists but whose ledger does not (Prisma's P3005).

    The live schema is compared with a scratch database migrated to the newest
    migration (or --to): tables, columns with type, nullability and default, indexes,
    constraints, enums, views, functions, triggers. Only when they match is every migration
    recorded as applied; otherwise the differences are listed and nothing changes (exit 4).

    Example: dbctl migrate baseline --dry-run
    """
    from litellm_dbctl.migrate import schema  # the engine: only when the command runs

    source = _source(ctx, migrations_dir)
    result = schema.baseline(common.target(ctx, direct=True), source, to=to, shadow_url=shadow_url,
                             dry_run=dry_run, lock_timeout=lock_timeout)
    if common.settings(ctx).output == "json":
        common.dump_json({"dry_run": result.dry_run, "compared_with": result.compared_with,
                          "matched": result.matched, "recorded": list(result.recorded),
                          "differences": _differences_json(result.differences)})
    elif not result.matched:
        _differences(ctx, result.differences)
    if not result.matched:
        typer.echo(f"dbctl: the schema differs from {result.compared_with} in {len(result.differences)} "
                   "place(s); nothing recorded", err=True)
        common.exit_with(int(ExitCode.INTEGRITY))
        return
    if dry_run:
        common.line(ctx, f"the schema matches {result.compared_with}; would record "
                         f"{len(source.up_to(to).migrations) if to else len(source.migrations)} migrations as applied")
        common.exit_with(int(ExitCode.PENDING))
        return
    common.line(ctx, f"the schema matches {result.compared_with}; recorded {len(result.recorded)} migrations as applied")


@app.command("diff")
def diff(
    ctx: typer.Context,
    migrations_dir: Optional[Path] = MIGRATIONS_DIR,
    shadow_url: Optional[str] = SHADOW_URL,
) -> None:
    """Drift: the live schema against what its applied migrations produce.

    The applied migrations are replayed in a scratch database. Lists every table, column, index, constraint, enum, view,
    function and trigger that is missing, extra or different. The request-log indexes LiteLLM
    builds outside its migrations are ignored. Exit 0 no drift, 3 drift.

    Example: dbctl migrate diff --json
    """
    from litellm_dbctl.migrate import schema  # the engine: only when the command runs

    source = _source(ctx, migrations_dir)
    result = schema.diff(common.target(ctx, direct=True), source, shadow_url=shadow_url)
    for note in result.notes:
        common.info(ctx, f"note: {note}")
    if common.settings(ctx).output == "json":
        common.dump_json({"compared_with": result.compared_with, "replayed": len(result.replayed),
                          "differences": _differences_json(result.differences), "notes": list(result.notes)})
    else:
        _differences(ctx, result.differences)
        common.line(ctx, f"{len(result.differences) or 'no'} difference(s) from {result.compared_with}")
    if result.differences:
        common.name_found(ctx, f"drift: {len(result.differences)} difference(s) from {result.compared_with}",
                          [f"{d.kind} {d.name} {d.change}" for d in result.differences])
        common.exit_with(int(ExitCode.PENDING))


@app.command("indexes")
def indexes(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what each index needs; build nothing (exit 3)."),
    lock_timeout: float = common.LOCK_TIMEOUT,
    statement_lock_timeout: str = _statement_lock_timeout("2s"),
) -> None:
    """Build the request-log indexes LiteLLM keeps out of its migrations, without blocking writes.

    LiteLLM_SpendLogs_api_key_startTime_idx and LiteLLM_SpendLogs_litellm_call_id_idx are built
    with CREATE INDEX CONCURRENTLY under LiteLLM's coordinator lock; an INVALID copy is dropped and
    rebuilt, an equivalent index is adopted (renamed), and a partitioned LiteLLM_SpendLogs gets a
    parent index ON ONLY plus one concurrent build and ATTACH per partition. Exit 0 all in place,
    3 (dry run) work to do, 5 lock busy, 6 schema too old.

    Example: dbctl migrate indexes --dry-run
    """
    from litellm_dbctl.migrate import indexes as request_log  # the engine: only when the command runs

    report = request_log.ensure(common.target(ctx, direct=True), dry_run=dry_run, lock_timeout=lock_timeout,
                                statement_lock_timeout=statement_lock_timeout)
    common.emit(ctx, report.actions, ["index", "table", "action", "detail"], report=True, prose=["detail"],
                json_payload={"dry_run": report.dry_run, "indexes": report.actions})
    changes = report.changes
    common.line(ctx, f"{len(changes)} change(s) {'needed' if dry_run else 'made'}" if changes
                else "every request-log index is in place")
    if any(a.action == "incomplete" for a in report.actions):
        common.name_found(ctx, "request-log indexes left incomplete",
                          [f"{a.index} ({a.detail})" for a in report.actions if a.action == "incomplete"])
        common.exit_with(int(ExitCode.INTEGRITY))
    elif dry_run and changes:
        common.name_found(ctx, f"{len(changes)} change(s) needed", [f"{a.index} ({a.action})" for a in changes])
        common.exit_with(int(ExitCode.PENDING))


@app.command("lint")
def lint(
    ctx: typer.Context,
    migrations_dir: Optional[Path] = MIGRATIONS_DIR,
    everything: bool = typer.Option(False, "--all", help="Lint every migration, not only the pending ones."),
    exclude: list[str] = typer.Option([], "--exclude", metavar="RULE", help="Skip a rule (repeatable)."),
) -> None:
    """Lock-risk lint of the pending migrations, ranked by the live table's size.

    Squawk-class rules: indexes built without CONCURRENTLY, table rewrites, full-table scans under ACCESS EXCLUSIVE,
    FK/CHECK without NOT VALID, NOT NULL without a default, drops and renames a running proxy
    cannot survive, files without lock_timeout. Each finding names file:line and the rule, ranked
    by the live table's size. Silence one with `-- dbctl-lint: ignore RULE` above the statement.
    Exit 0 nothing found, 3 findings.

    Example: dbctl migrate lint --all --exclude require-lock-timeout
    """
    from litellm_dbctl.migrate import lint as linter  # the linter: only when the command runs

    source = _source(ctx, migrations_dir)
    report = linter.lint(common.target(ctx, direct=True), source, everything=everything, exclude=exclude)
    rows = [{"location": f.location, "severity": f.severity, "rule": f.rule, "table": f.table,
             "size": _size(f.estimated_rows, f.bytes), "message": f.message} for f in report.findings]
    common.emit(ctx, rows, ["location", "severity", "rule", "table", "size", "message"], report=True, prose=["message"],
                json_payload={"linted": list(report.linted), "findings": report.findings})
    files = len({f.migration for f in report.findings})
    scope = f"{len(report.linted)} {'' if everything else 'pending '}migration(s)"
    common.line(ctx, f"{len(report.findings)} finding(s) in {files} of {scope}" if report.findings
                else f"no lock risk found in {scope}")
    if report.findings:
        common.name_found(ctx, f"{len(report.findings)} lock risk(s) found",
                          [f"{f.location} {f.rule}" for f in report.findings])
        common.exit_with(int(ExitCode.PENDING))


def _size(rows: Optional[int], size_bytes: Optional[int]) -> str:
    if rows is None or size_bytes is None:
        return "not in the database"
    size = float(size_bytes)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            break
        size /= 1024
    count = f"{rows / 1e6:.1f}M" if rows >= 1_000_000 else f"{rows / 1e3:.1f}k" if rows >= 1000 else str(rows)
    return f"~{count} rows, {size:.0f} {unit}" if unit == "B" else f"~{count} rows, {size:.1f} {unit}"


