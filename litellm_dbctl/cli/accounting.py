"""`dbctl accounting`: LiteLLM 1.110's spend-log outbox: its backlog, and parked deliveries retried.

The library (`litellm_dbctl.accounting`) is imported inside the command bodies.
"""

from __future__ import annotations

from typing import Any, Optional

import typer

from litellm_dbctl.cli import common
from litellm_dbctl.cli.provisioning import ACTOR, NO_AUDIT
from litellm_dbctl.common.errors import InvalidInput

app = typer.Typer(help="LiteLLM 1.110's spend-log outbox: backlog, parked deliveries, retry.", no_args_is_help=True)

MAX_AGE = 100 * 366 * 86400.0  # --older-than: a century is older than any outbox row
PARKED_COLUMNS = ["last_error", "deliveries", "first_created_at", "last_created_at", "example_request_id"]
RETRY_COLUMNS = ["delivery_id", "request_id", "state", "attempts", "last_error", "created_at"]


def _age(seconds: float) -> str:
    """`3h 12m`, `45s`: the oldest pending delivery's age, for people."""
    whole = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole >= size:
            rest = whole % size
            following = {"d": ("h", 3600), "h": ("m", 60), "m": ("s", 1)}[unit]
            return f"{whole // size}{unit}" + (f" {rest // following[1]}{following[0]}" if rest // following[1] else "")
    return f"{whole}s"


@app.command("status")
def status(ctx: typer.Context) -> None:
    """The spend-log outbox (LiteLLM_SpendLogDelivery): how many deliveries are pending (and of those,
    waiting out a retry backoff), parked and applied-but-kept, the oldest pending one's age, and the
    parked ones grouped by last_error. A parked delivery's spend is in the spend logs but in no
    counter or daily table until it is retried (`dbctl accounting retry --parked`). Read-only. Exit 0,
    or 3 when anything is parked (for monitoring: with -q, stderr names the errors). A database from
    before LiteLLM 1.110 has no outbox: a one-line note, exit 0.

    Example: dbctl accounting status -q || mail -s "parked LiteLLM spend" ops@example.com
    """
    from litellm_dbctl.accounting import outbox

    with common.connect(ctx, read_only=True) as conn:
        result = outbox.status(conn)
    if not result.outbox:
        common.emit(ctx, [], PARKED_COLUMNS, json_payload={"outbox": False}, report=True)
        common.info(ctx, outbox.NO_OUTBOX)
        return
    groups = [{"last_error": g.last_error, "deliveries": g.deliveries, "first_created_at": g.first_created_at,
               "last_created_at": g.last_created_at, "example_request_id": g.example_request_id}
              for g in result.parked_by_error]
    payload: dict[str, Any] = {
        "outbox": True, "pending": result.pending, "retrying": result.retrying, "parked": result.parked,
        "applied": result.applied, "oldest_pending_seconds": result.oldest_pending_seconds,
        "oldest_pending_at": result.oldest_pending_at, "parked_by_error": groups}
    common.emit(ctx, groups, PARKED_COLUMNS, json_payload=payload, report=True, prose=["last_error"])
    oldest = f", oldest {_age(result.oldest_pending_seconds)}" if result.pending else ""
    common.line(ctx, f"outbox: {result.pending} pending ({result.retrying} retrying{oldest}), {result.parked} parked, "
                     f"{result.applied} applied (kept until LiteLLM's retention deletes them)")
    if result.parked:
        common.name_found(ctx, f"{result.parked} parked spend-log deliver{'y' if result.parked == 1 else 'ies'}",
                          [f"{g['last_error'] or '(no error)'} x{g['deliveries']}" for g in groups])
    common.exit_with(3 if result.parked else 0)


@app.command("retry")
def retry(
    ctx: typer.Context,
    parked: bool = typer.Option(False, "--parked", help="Only parked deliveries (not pending ones in a backoff)."),
    request_id: Optional[str] = typer.Option(None, "--request-id", metavar="ID",
                                             help="Only this request's deliveries."),
    older_than: Optional[float] = common.span_option(None, "--older-than", maximum=MAX_AGE,
                                                     help="Only deliveries created longer ago than this (e.g. 2h)."),
    actor: str = ACTOR,
    no_audit: bool = NO_AUDIT,
    dry_run: bool = common.DRY_RUN,
    lock_timeout: float = common.LOCK_TIMEOUT,
) -> None:
    """Hand deliveries back to the proxy's accounting worker: parked ones, and (without --parked)
    pending ones waiting out a retry backoff, narrowed by --request-id and --older-than; at least
    one of the three is required. Each is made due now in the shape the worker's own failure path
    leaves a row it retries (state pending, attempts > 0 so it is retried alone, a parked one from
    attempts 1; last_error kept until the next attempt), with one LiteLLM_AuditLog row each. The
    proxy applies them on its next flush; one that fails 4 more times is parked again. Exit 0 done
    (or nothing to retry), 3 when --dry-run finds deliveries, 5 when another retry holds the lock or
    the worker holds a row past --lock-timeout.

    Example: dbctl accounting retry --parked --older-than 1h --dry-run
    """
    from litellm_dbctl.accounting import outbox
    from litellm_dbctl.common import checks

    if not (parked or request_id or older_than is not None):
        raise InvalidInput("say which deliveries: --parked, --request-id ID and/or --older-than DURATION")
    if request_id is not None:
        checks.flag("--request-id", request_id, checks.text)
    checks.flag("--actor", actor, checks.text)
    selection = outbox.Selection(parked_only=parked, request_id=request_id, older_than=older_than)
    result = outbox.retry(common.target(ctx), selection, actor=actor, audit=not no_audit, dry_run=dry_run,
                          lock_timeout=lock_timeout)
    if not result.outbox:
        common.emit(ctx, [], RETRY_COLUMNS, json_payload={"outbox": False, "dry_run": dry_run, "deliveries": []},
                    report=True)
        common.info(ctx, outbox.NO_OUTBOX)
        return
    rows: list[dict[str, Any]] = [{
        "delivery_id": d.delivery_id, "request_id": d.request_id, "state": d.state, "attempts": d.attempts,
        "last_error": d.last_error, "created_at": d.created_at} for d in result.deliveries]
    common.emit(ctx, rows, RETRY_COLUMNS, json_payload={"outbox": True, "dry_run": dry_run, "deliveries": rows},
                report=True, whole=["delivery_id", "request_id"])
    verb = "would retry" if dry_run else "retried"
    count = len(rows)
    common.line(ctx, f"{verb} {count} deliver{'y' if count == 1 else 'ies'}"
                     f"{' (dry run, rolled back)' if dry_run else ''}")
    if dry_run and rows:
        common.name_found(ctx, f"would retry {count} deliver{'y' if count == 1 else 'ies'}",
                          [r["request_id"] for r in rows])
    common.exit_with(3 if dry_run and rows else 0)
