"""`dbctl migrate`: LiteLLM's Prisma migrations with no Node, on Prisma's own ledger."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from litellm_dbctl.cli import common

app = typer.Typer(help="Apply LiteLLM's migrations with no Node or Prisma; status, resolve, lint.",
                  no_args_is_help=True)

MIGRATIONS_DIR = typer.Option(None, "--migrations-dir", metavar="DIR", file_okay=False,
                              help="A Prisma-layout migrations directory. Default: the installed litellm-proxy-extras.")


def _source(ctx: typer.Context, directory: Optional[Path]):  # noqa: ANN202 - migrations.Source
    from litellm_dbctl import migrations

    source = migrations.load_source(directory)
    common.info(ctx, f"migrations: {source.label} ({len(source.migrations)})")
    return source


@app.command("status")
def status(ctx: typer.Context, migrations_dir: Optional[Path] = MIGRATIONS_DIR) -> None:
    """Every migration's state: applied, pending, failed, rolled back, modified after apply (its
    checksum differs), or only in the database. Exit 0 up to date, 3 pending, 4 failed or
    modified (or tables without a ledger: baseline needed). The table lists what is not applied;
    -v lists everything.

    Example: dbctl migrate status --json
    """
    from litellm_dbctl import migrations

    source = _source(ctx, migrations_dir)
    with common.connect(ctx, read_only=True, direct=True) as conn:
        result = migrations.status(conn, source)
    s = common.settings(ctx)
    shown = result.migrations if s.verbose or s.output != "table" else \
        [m for m in result.migrations if m.state != migrations.APPLIED]
    common.emit(ctx, [{"migration": m.name, "state": m.state, "applied_at": m.applied_at, "detail": m.detail}
                      for m in shown],
                ["migration", "state", "applied_at", "detail"],
                json_payload=result.as_json())
    common.line(ctx, result.summary())
    if result.exit_code and s.quiet:
        typer.echo(f"dbctl: {result.summary()}", err=True)
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
    statement_lock_timeout: str = typer.Option("10s", "--statement-lock-timeout", metavar="DURATION",
                                               help="PostgreSQL lock_timeout per statement; a timeout is retried."),
) -> None:
    """Apply pending migrations in order, each file atomic with its ledger row, under Prisma's and
    LiteLLM's advisory locks (polled up to --lock-timeout, then exit 5). Refuses (exit 4) while a
    migration is failed or an applied file was modified.

    Example: dbctl migrate deploy -q
    """
    from litellm_dbctl import migrations
    from litellm_dbctl.errors import ExitCode

    source = _source(ctx, migrations_dir)
    progress = _progress(ctx)
    try:
        result = migrations.deploy(common.target(ctx, direct=True), source, to=to, dry_run=dry_run,
                                   allow_modified=allow_modified, lock_timeout=lock_timeout,
                                   statement_lock_timeout=statement_lock_timeout, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    s = common.settings(ctx)
    if dry_run:
        if s.output == "json":
            common.dump_json({"dry_run": True, "source": result.source, "pending": list(result.pending)})
        elif not s.quiet:
            for name in result.pending:
                typer.echo(name)
                if sql:
                    typer.echo(source.get(name).sql.rstrip() + "\n")
            typer.echo(f"{len(result.pending)} migration(s) would be applied", err=True)
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
    """Edit the ledger after a failed migration, as `prisma migrate resolve` does: never runs or
    undoes SQL, never overwrites history (old rows stay, marked rolled back; a new row records
    the resolution). Exit 2 for an unknown name (P3017), a migration already applied (P3008), or
    one that is not failed (P3011/P3012).

    Example: dbctl migrate resolve --rolled-back 20250326162113_baseline
    """
    from litellm_dbctl import migrations
    from litellm_dbctl.errors import ExitCode

    source = _source(ctx, migrations_dir)
    result = migrations.resolve(common.target(ctx, direct=True), source, applied=applied, rolled_back=rolled_back,
                                dry_run=dry_run, lock_timeout=lock_timeout)
    if common.settings(ctx).output == "json":
        if not common.settings(ctx).quiet:
            common.dump_json(result)
    else:
        undone = f"; {result.rows_rolled_back} failed row(s) marked rolled back" if result.rows_rolled_back else ""
        common.line(ctx, f"{'would record' if dry_run else 'recorded'} {result.migration} as {result.resolved}{undone}")
    common.exit_with(int(ExitCode.PENDING) if dry_run else 0)


class _Bar:
    """A one-line progress display on a TTY stderr."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, index: int, total: int, migration: object) -> None:
        width = 30
        done = int(width * (index - 1) / max(total, 1))
        name = getattr(migration, "name", "")
        sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {index}/{total} {name[:50]:<50}")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


def _progress(ctx: typer.Context) -> Optional[_Bar]:
    s = common.settings(ctx)
    return _Bar() if sys.stderr.isatty() and not s.quiet and s.output == "table" else None
