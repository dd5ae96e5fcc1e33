"""`dbctl db`: where dbctl connects, server health, and the embedded server."""

from __future__ import annotations

import typer

from litellm_dbctl.cli import EMBEDDED_USED, common
from litellm_dbctl.common.errors import ExitCode

app = typer.Typer(help="Where dbctl connects, server health, and the embedded server.", no_args_is_help=True)
embedded_app = typer.Typer(help="dbctl's embedded PostgreSQL (--embedded; at a terminal, also when no database is configured).",
                           no_args_is_help=True)
app.add_typer(embedded_app, name="embedded")


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Where dbctl is connected: server version, TLS, schema, the migration ledger, and the LiteLLM
    release line the database belongs to (from the ledger and tables; --litellm-version overrides).

    Example: dbctl db status --json
    """
    from litellm_dbctl.db import config
    from litellm_dbctl.doctor import health

    result = health.status(common.target(ctx))
    s = common.settings(ctx)
    if s.output == "json":
        common.dump_json(result)
        return
    ledger = result.ledger
    if ledger["exists"]:
        ledger_text = (f"{ledger['applied']} applied, {ledger['failed']} failed, newest {ledger['newest_applied']}"
                       + (f", {ledger['pending']} pending against {ledger['source']}" if ledger["pending"] is not None else ""))
    else:
        embedded_source = ctx.meta.get(EMBEDDED_USED)
        ledger_text = "no _prisma_migrations ledger (" + (
            config.embedded_schema_hint(embedded_source) if embedded_source else "run `dbctl migrate deploy`") + ")"
    rows = [
        {"field": "connected to", "value": result.connected_to},
        {"field": "from", "value": result.source},
        {"field": "server", "value": result.server_version + (" (replica)" if result.replica else "")},
        {"field": "database", "value": result.database},
        {"field": "schema", "value": result.schema},
        {"field": "user", "value": result.user},
        {"field": "TLS", "value": "yes" if result.tls else "no"},
        {"field": "migrations", "value": ledger_text},
        {"field": "LiteLLM", "value": result.litellm["text"]},
    ]
    common.emit(ctx, rows, ["field", "value"], prose=["value"])


@app.command("doctor")
def doctor(
    ctx: typer.Context,
    old_transaction: float = common.span_option("5m", "--old-transaction", maximum=366 * 86400.0, former_unit="s",
                                                help="Report transactions on LiteLLM tables older than this."),
) -> None:
    """Checks to run before an upgrade: reachability, version, failed migrations, request-log
    indexes, invalid indexes, table sizes and bloat, long transactions. Exit 0 when all pass, 3 when a
    check fails (named on stderr with -q or --json), 1 when the database cannot be reached.

    Example: dbctl db doctor --json
    """
    from litellm_dbctl.doctor import health

    checks = health.doctor(common.target(ctx), old_transaction_seconds=old_transaction)
    rows = [{"check": c.name, "status": "ok" if c.ok else "FAIL", "result": c.result, "hint": c.hint} for c in checks]
    common.emit(ctx, rows, ["check", "status", "result", "hint"], report=True, prose=["result", "hint"],
                json_payload={"ok": all(c.ok for c in checks), "checks": checks})
    failed = [c for c in checks if not c.ok]
    unreachable = next((c for c in failed if c.name == "reachable"), None)
    if unreachable is not None:  # no check ran: an operational error, not a finding
        typer.echo(f"dbctl: error: cannot run the checks: {unreachable.result}", err=True)
        raise typer.Exit(int(ExitCode.ERROR))
    if failed:
        common.name_found(ctx, f"doctor: {len(failed)} check(s) failed", [f"{c.name} ({c.result})" for c in failed])
        raise typer.Exit(int(ExitCode.PENDING))


@embedded_app.command("status")
def embedded_status(ctx: typer.Context) -> None:
    """Whether the embedded server runs, where its data lives, and its pid. Never starts it."""
    from litellm_dbctl.db import embedded

    directory = embedded.data_dir()
    server = embedded.running(directory)
    payload = {"directory": str(directory), "initialized": (directory / "data" / "PG_VERSION").exists(),
               "running": server is not None, "pid": server.pid if server else None,
               "socket_dir": str(server.socket_dir) if server else None}
    common.emit(ctx, [{"field": k, "value": v} for k, v in payload.items()], ["field", "value"], json_payload=payload,
                prose=["value"])


@embedded_app.command("stop")
def embedded_stop(ctx: typer.Context) -> None:
    """Stop the embedded server (its data stays; the next command starts it again)."""
    from litellm_dbctl.db import embedded

    directory = embedded.data_dir()
    stopped = embedded.stop(directory)
    common.info(ctx, f"stopped embedded PostgreSQL in {directory}" if stopped else "embedded PostgreSQL was not running")


@embedded_app.command("url")
def embedded_url(ctx: typer.Context) -> None:
    """Print the embedded server's connection URL (starting it if needed), e.g. for psql."""
    from litellm_dbctl.db import embedded

    server = embedded.ensure_running(embedded.data_dir())
    typer.echo(server.url)
