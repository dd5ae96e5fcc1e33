"""`dbctl spend buffer`: what waits in LiteLLM's Redis buffers, and who holds the cron-job locks.

Typer only; registered on the `spend` group by cli/spend.py (`app.command("buffer")(buffer)`).
The library (litellm_dbctl.spend.buffer, which loads redis-py) is imported inside the body.
"""

from __future__ import annotations

from typing import Any, Optional

import typer

from litellm_dbctl.cli import common
from litellm_dbctl.common.errors import ExitCode, InvalidInput

MAX_AGE_LIMIT = 366 * 86400.0
COLUMNS = ["buffer", "entries", "spend", "by_entity", "requests", "oldest", "age", "drained_by"]


def buffer(
    ctx: typer.Context,
    redis_url: Optional[str] = typer.Option(None, "--redis-url", metavar="URL", envvar="REDIS_URL", show_envvar=True,
                                            help="The Redis the proxies buffer spend in (redis://, rediss://, "
                                                 "unix://, redis+cluster://, redis+sentinel://)."),
    redis_namespace: Optional[str] = typer.Option(None, "--redis-namespace", metavar="NS",
                                                  help="LiteLLM's Redis namespace (cache_params.namespace), "
                                                       "when one is set: it prefixes the buffers and locks."),
    max_age: float = common.span_option("5m", "--max-age", maximum=MAX_AGE_LIMIT,
                                        help="Exit 3 when a buffer's oldest entry is older than this (e.g. 5m, 1h)."),
) -> None:
    """What waits in each of LiteLLM's Redis buffers (use_redis_transaction_buffer): entries, the
    spend they carry per entity type, the oldest entry's age; and which pod holds each
    cronjob_lock, with its TTL. Read-only: nothing is popped. Exit 3 when an entry is older than
    --max-age (for monitoring).

    Example: dbctl spend buffer --redis-url redis://cache:6379 --max-age 10m -q
    """
    if not redis_url:
        raise InvalidInput("--redis-url: the proxies' Redis is needed (or set REDIS_URL)")
    from litellm_dbctl.spend import buffer as library  # deferred: loads redis-py

    state = library.read(redis_url, redis_namespace or None)
    rows = [_row(b) for b in state.buffers]
    output = common.settings(ctx).output
    if output == "json":
        common.dump_json(_payload(state, max_age))
    elif output == "csv":
        common.emit(ctx, rows, COLUMNS)
    else:
        shown = [r for r, b in zip(rows, state.buffers) if b.entries]
        if shown:
            common.emit(ctx, shown, COLUMNS, title="buffers", report=True, optional=["by_entity", "requests", "drained_by"])
        common.line(ctx, f"{sum(1 for b in state.buffers if b.entries)} of {len(state.buffers)} buffers hold "
                         f"entries ({sum(b.entries for b in state.buffers):,} in all)")
        if state.locks:
            common.emit(ctx, [{"job": lock.job, "holder": lock.holder, "ttl": _seconds(lock.ttl_seconds)}
                              for lock in state.locks], ["job", "holder", "ttl"], title="cron-job locks", report=True)
        else:
            common.line(ctx, "no cronjob_lock held")
    for report in state.buffers:
        if report.changed:
            common.info(ctx, f"dbctl: note: {report.key} changed while read ({report.entries} entries at first): "
                             "its figures are approximate")
        if report.undecodable:
            common.info(ctx, f"dbctl: warning: {report.key}: {report.undecodable} entr"
                             f"{'y' if report.undecodable == 1 else 'ies'} LiteLLM could not read either")
    stale = state.older_than(max_age)
    if stale:
        common.name_found(ctx, f"{len(stale)} buffer(s) hold entries older than {_seconds(max_age)}",
                          [f"{b.key} (oldest {_seconds(b.age_seconds)} old)" for b in stale])
        common.exit_with(int(ExitCode.PENDING))


def _row(report: Any) -> dict[str, Any]:
    return {"buffer": report.key, "entries": report.entries,
            "spend": round(sum(s.spend for s in report.spend), 6) if report.spend else None,
            "by_entity": ", ".join(f"{s.entity_type} {s.spend:.6g} ({s.entities})" for s in report.spend) or None,
            "requests": report.requests, "oldest": report.oldest, "age": _seconds(report.age_seconds),
            "drained_by": f"cronjob_lock:{report.job}" if report.job else "any pod"}


def _payload(state: Any, max_age: float) -> dict[str, Any]:
    return {
        "read_at": state.read_at, "namespace": state.namespace, "max_age_seconds": max_age,
        "buffers": [{"name": b.name, "key": b.key, "kind": b.kind, "job": b.job, "entries": b.entries,
                     "read": b.read, "undecodable": b.undecodable, "requests": b.requests,
                     "spend": {s.entity_type: {"spend": s.spend, "entities": s.entities} for s in b.spend},
                     "oldest": b.oldest, "age_seconds": b.age_seconds, "age_basis": b.age_basis,
                     "changed": b.changed} for b in state.buffers],
        "locks": [{"key": lock.key, "job": lock.job, "holder": lock.holder, "ttl_seconds": lock.ttl_seconds}
                  for lock in state.locks],
        "older_than_max_age": [b.key for b in state.older_than(max_age)],
    }


def _seconds(value: float | None) -> str | None:
    """A length of time as people read it: 42s, 3m 5s, 2h 10m, 3d 4h."""
    if value is None:
        return None
    whole = int(value)
    for unit, size, smaller, small_size in (("d", 86400, "h", 3600), ("h", 3600, "m", 60), ("m", 60, "s", 1)):
        if whole >= size:
            rest = (whole % size) // small_size
            return f"{whole // size}{unit}" + (f" {rest}{smaller}" if rest else "")
    return f"{value:.1f}s" if value < 10 else f"{whole}s"
