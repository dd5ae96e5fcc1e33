"""`dbctl key update|rotate|info|prune`: a key's life after `key create` (registered in cli/key.py)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any, Optional

import typer

from litellm_dbctl.cli import common, details, provisioning
from litellm_dbctl.common import checks

KEY_REF = typer.Argument(..., metavar="KEY", help="Alias, token (SHA-256 hex or its first 8+ characters) or the raw key.")
PRUNED_COLUMNS = ["token", "key_alias", "key_name", "user_id", "team_id", "expires", "last_active", "created_at"]
WHEN_FORMS = "a UTC day (YYYY-MM-DD, 30d = thirty days ago, 4w) from its midnight, or an instant (an ISO date-time, 12h)"


@provisioning.with_settings(windows=True)
def update(
    ctx: typer.Context,
    key: str = KEY_REF,
    alias: Optional[str] = typer.Option(None, "--alias", help="New key_alias; must be unused (LiteLLM's rule)."),
    models: Optional[list[str]] = typer.Option(None, "--models", metavar="M1,M2",
                                               help="Models the key may use (replaces the list)."),
    max_budget: Optional[float] = typer.Option(None, "--max-budget", help="Key budget in USD."),
    budget_duration: Optional[str] = typer.Option(None, "--budget-duration", metavar="DURATION",
                                                  help="Budget window: 1d, 7d, 1mo, ...; a new one starts now "
                                                       "(budget_reset_at = its next boundary)."),
    duration: Optional[str] = typer.Option(None, "--duration", metavar="DURATION",
                                           help="Lifetime from now (the key expires then, e.g. 30d), or never."),
    tpm_limit: Optional[int] = typer.Option(None, "--tpm-limit", help="Tokens per minute."),
    rpm_limit: Optional[int] = typer.Option(None, "--rpm-limit", help="Requests per minute."),
    metadata: Optional[str] = typer.Option(None, "--metadata", metavar="JSON",
                                           help="A JSON object; replaces the stored one (as /key/update)."),
    team: Optional[str] = typer.Option(None, "--team", help="Move the key to this team (id or alias)."),
    no_team: bool = typer.Option(False, "--no-team", help="Take the key out of its team (its user keeps it)."),
    blocked: Optional[bool] = typer.Option(None, "--blocked/--unblocked", help="Block or unblock the key."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Change a key's fields as /key/update writes them: only those given; a changed --budget-duration
    starts a new window. A team key stays within its team's models and limits. JSON: {dry_run, token,
    key_alias, action (updated|unchanged), changed: {field: {before, after}}, redis}.

    Example: dbctl key update ci-bot --max-budget 50 --budget-duration 1mo
    """
    from litellm_dbctl.common.errors import InvalidInput
    from litellm_dbctl.keys import update as updating

    meta = checks.flag("--metadata", metadata, checks.json_text)
    if meta is not None and not isinstance(meta, dict):
        raise InvalidInput("--metadata: expected a JSON object")
    wanted = updating.KeyUpdate(key_alias=alias, models=provisioning.split_list(models) if models is not None else None,
                                max_budget=max_budget, budget_duration=budget_duration, tpm_limit=tpm_limit,
                                rpm_limit=rpm_limit, metadata=meta, duration=duration, team=team,
                                leave_team=True if no_team else None, blocked=blocked)
    dry_run = settings.dry_run
    done = updating.update(common.target(ctx), key, wanted, options=provisioning.options(settings), dry_run=dry_run,
                           lock_timeout=settings.lock_timeout)
    change = done.change
    acted = change.action != "unchanged"
    published = provisioning.published(ctx, change.invalidated, 1 if acted and not dry_run else 0)
    if common.settings(ctx).output == "json":
        common.dump_json({"dry_run": dry_run, "token": change.token, "key_alias": change.key_alias,
                          "action": change.action,
                          "changed": {f: {"before": b, "after": a} for f, (b, a) in done.fields.items()},
                          "redis": published.redis})
    else:
        name = change.key_alias or change.token[:12] + "…"
        fields = ", ".join(f"{f} {_shown(b)} -> {_shown(a)}" for f, (b, a) in done.fields.items())
        common.line(ctx, f"{'would be ' if dry_run and acted else ''}{change.action}: {name}"
                         + (f" ({fields})" if fields else ""))
    published.raise_failure()
    if dry_run and acted:
        raise typer.Exit(3)


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(common.to_jsonable(value), ensure_ascii=False)
    return "null" if value is None else str(value)


@provisioning.with_settings(keys=True)
def rotate(ctx: typer.Context, key: str = KEY_REF, *, settings: provisioning.RunSettings) -> None:
    """Give a key a new raw key, as /key/regenerate does: the same row keeps its alias, owner, budgets,
    spend and limits; the old token stops working at once and is kept in LiteLLM_DeletedVerificationToken.
    The new key is printed once on stdout (even with -q), and with --keys-out appended to FILE before
    the commit. JSON: {dry_run, key, token, old_token, key_name, key_alias, action, redis}.

    Example: dbctl key rotate ci-bot --redis-url redis://cache:6379
    """
    from litellm_dbctl.keys import rotate as rotating

    dry_run = settings.dry_run
    with provisioning.keys_file(settings) as keys_out:
        done = rotating.rotate(common.target(ctx), key, options=provisioning.options(settings), dry_run=dry_run,
                               lock_timeout=settings.lock_timeout, keys_out=keys_out)
    change, new = done.change, done.key
    published = provisioning.published(ctx, change.invalidated, 0 if dry_run else 1)
    name = change.key_alias or change.token[:12] + "…"
    if common.settings(ctx).output == "json":
        common.dump_json({"dry_run": dry_run, "key": new.raw if new else None, "token": new.token if new else None,
                          "old_token": change.token, "key_name": new.key_name if new else None,
                          "key_alias": change.key_alias, "action": change.action, "redis": published.redis})
    elif new is None:
        common.line(ctx, f"would rotate key {name}; nothing written")
    else:
        sys.stdout.write(new.raw + "\n")
        common.info(ctx, f"rotated key {name} (token {change.token[:12]}… -> {new.token[:12]}…); the old key no "
                         "longer works; " + (f"the new one is also in {settings.keys_out}" if settings.keys_out else
                                             "store the new one now: dbctl cannot show it again"))
    published.raise_failure()
    if dry_run:
        raise typer.Exit(3)


def info(ctx: typer.Context, key: str = KEY_REF) -> None:
    """Everything about one key: owner (user_id, email), team, organization, budget tier, budgets and
    their windows (budget_limits), spend, limits, expiry, last use (last_active), blocked. Never the raw
    key (the database holds only its SHA-256). CSV: the key, then its budget windows.

    Example: dbctl key info ci-bot --json
    """
    from litellm_dbctl.keys import info as reading

    with common.connect(ctx, read_only=True) as conn:
        record = reading.info(conn, key)
    limits = record.get("budget_limits")
    windows: list[dict[str, Any]] = [w for w in limits if isinstance(w, dict)] if isinstance(limits, list) else []
    columns = list(dict.fromkeys(k for w in windows for k in w)) or ["budget_duration", "max_budget", "reset_at"]
    shown = {k: v for k, v in record.items() if k != "budget_limits"}
    details.render(ctx, shown, [details.Section("budget windows", windows, columns, columns)], record)


@provisioning.with_settings()
def prune(
    ctx: typer.Context,
    expired_before: Optional[str] = typer.Option(None, "--expired-before", metavar="WHEN",
                                                 help=f"Keys that expired before WHEN: {WHEN_FORMS}."),
    unused_since: Optional[str] = typer.Option(None, "--unused-since", metavar="WHEN",
                                               help=f"Keys not used since WHEN (last_active; never used: created "
                                                    f"before it): {WHEN_FORMS}."),
    batch_size: int = typer.Option(1000, "--batch-size", metavar="N", min=1,
                                   help="Keys per transaction (a killed run keeps whole batches; re-run it)."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Delete expired or unused keys in batches, each kept in LiteLLM_DeletedVerificationToken as
    /key/delete keeps it, audited `deleted`, under the `key` advisory lock. JSON: {dry_run, deleted,
    batches, keys: [...], redis}.

    Example: dbctl key prune --expired-before 30d --dry-run
    """
    from litellm_dbctl.keys import prune as pruning

    done = pruning.prune(common.target(ctx), expired_before=_moment("--expired-before", expired_before),
                         unused_since=_moment("--unused-since", unused_since), batch_size=batch_size,
                         options=provisioning.options(settings), dry_run=settings.dry_run,
                         lock_timeout=settings.lock_timeout)
    failed = next((i for i in done.invalidated if i.error is not None), None)
    last = done.invalidated[-1] if done.invalidated else None
    published = provisioning.published(ctx, failed or last, 0 if settings.dry_run else len(done.keys))
    keys = [{**k, "token": k["token"][:12]} for k in done.keys]
    if common.settings(ctx).output == "json":
        common.dump_json({"dry_run": settings.dry_run, "deleted": len(done.keys), "batches": done.batches,
                          "keys": list(done.keys), "redis": published.redis})
    else:
        common.emit(ctx, keys, PRUNED_COLUMNS, whole=["token"], report=True)
        verb = "would delete" if settings.dry_run else "deleted"
        common.line(ctx, f"{verb} {len(done.keys)} key(s) in {done.batches} batch(es)"
                         + ("; nothing written" if settings.dry_run else ""))
    published.raise_failure()
    if settings.dry_run and done.keys:
        raise typer.Exit(3)


def _moment(option: str, text: Optional[str]) -> Optional[datetime]:
    """WHEN in the one period grammar, as --since reads it; never after now (a cutoff in the future would
    take keys still in use)."""
    from litellm_dbctl.common import clock, periods
    from litellm_dbctl.common.errors import InvalidInput

    if text is None:
        return None
    now = clock.now()
    moment = periods.parse_moment(text, now, option=option)
    if moment is None:
        raise InvalidInput(f"{option}: expected a day or an instant, not 'all'")
    if moment > now:
        raise InvalidInput(f"{option} {text[:40]!r}: in the future (keys still in use would go)")
    return moment
