"""`dbctl budget`: budget windows reset from cron, declared limits, counter repair, and status."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

import typer

from litellm_dbctl.cli import common, provisioning
from litellm_dbctl.common import checks, durations
from litellm_dbctl.common.errors import ExitCode, InvalidInput

app = typer.Typer(help="Keep budgets right: resets, declared limits, counter repair, status.", no_args_is_help=True)

NOW_RANGE = (datetime(1970, 1, 1, tzinfo=timezone.utc), datetime(9000, 12, 31, tzinfo=timezone.utc))
MAX_SETTLE = 7 * 86400.0  # a week: logs written later than that are not "settling"
TABLE_LINES = 200  # change lines shown in table output unless -v (JSON always has them all)
END_USER_BUDGET = typer.Option(None, "--end-user-budget", metavar="BUDGET_ID",
                               help="The proxy's default end-user budget tier (litellm_settings."
                                    "max_end_user_budget_id): end users without a tier use it.")


@app.command("sync", cls=common.renamed({"--file": "BUDGETS.YAML", "-f": "BUDGETS.YAML",
                                           "--reset-time": "--budget-reset-time"}))
def sync_command(
    ctx: typer.Context,
    file: Optional[Path] = typer.Argument(None, metavar="[BUDGETS.YAML]", dir_okay=False, show_default=False,
                                          help="Declared limits for named keys, users, teams, orgs, end users, tags "
                                             "and budget tiers; others are untouched. Validated whole first."),
    resets: bool = typer.Option(True, "--resets/--no-resets", help="Reset due budget windows (default on)."),
    rollover: bool = typer.Option(False, "--rollover",
                                  help="A reset window starts with the overage (spend - max_budget), as "
                                       "LiteLLM's litellm_settings.budget_rollover."),
    timezone_: str = typer.Option("UTC", "--timezone", metavar="ZONE",
                                  help="IANA zone windows align in (LiteLLM's litellm_settings.timezone)."),
    reset_time: str = typer.Option("00:00", "--budget-reset-time", metavar="HH:MM",
                                   help="Time of day day/week/month windows reset at (litellm_settings."
                                        "budget_reset_time)."),
    end_user_budget: Optional[str] = END_USER_BUDGET,
    repair_spend: bool = typer.Option(False, "--repair-spend",
                                      help="Recompute the spend of each key, user, team, end user, organization and "
                                           "tag in its current window from LiteLLM_SpendLogs; apply the drift as "
                                           "increments."),
    settle: float = common.span_option("2m", "--settle", maximum=MAX_SETTLE, former_unit="m",
                                       help="With --repair-spend: leave entities used this recently alone "
                                            "(their spend logs are written after their counters)."),
    min_drift: float = typer.Option(0.000001, "--min-drift", metavar="AMOUNT", min=0,
                                    help="With --repair-spend: ignore drifts up to this amount."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would change (exit 3 when something "
                                 "would): window resets are only read (with BUDGETS.YAML or --repair-spend they run too, as "
                                 "those see their result), other statements run and are rolled back."),
    check: bool = typer.Option(False, "--check", help="Like --dry-run, printing only the summary: for monitoring "
                                                      "(exit 3 when anything would change)."),
    redis_url: Optional[str] = typer.Option(None, "--redis-url", metavar="URL", envvar="REDIS_URL",
                                            show_envvar=True,
                                            help="The proxies' Redis: hold LiteLLM's reset-job lease while "
                                                 "syncing, then drop the changed entities' spend counters and "
                                                 "cached objects and publish invalidations."),
    redis_namespace: Optional[str] = typer.Option(None, "--redis-namespace", metavar="NS",
                                                  help="LiteLLM's Redis cache namespace, when one is set."),
    finish_invalidations: bool = typer.Option(
        False, "--finish-invalidations",
        help="Only send the Redis invalidations earlier runs recorded and did not finish (killed after their "
             "commit, or Redis failed); every run with --redis-url does this first anyway."),
    now: Optional[str] = typer.Option(None, "--now", metavar="TIMESTAMP",
                                      help="Act as if it were this time (ISO 8601, default UTC): preview what a "
                                           "later run would do with --dry-run."),
    lock_timeout: float = common.LOCK_TIMEOUT,
) -> None:
    """Reset due budget windows (keys, users, teams, budget tiers and everything linked to them) as
    LiteLLM's reset job does, but guarded so no window is reset twice; set budget_reset_at where a
    duration has none; write declared limits (BUDGETS.YAML); repair spend counters (--repair-spend). One
    transaction under the budget advisory lock (exit 5 when busy); --dry-run/--check exit 3 when
    anything would change.

    Example: dbctl budget sync budgets.yaml --redis-url redis://cache:6379 -q
    """
    from litellm_dbctl.budget import limits  # deferred: the library loads psycopg; --help stays fast
    from litellm_dbctl.budget.sync import SyncOptions, sync

    checks.flag("--timezone", timezone_, checks.zone)
    checks.flag("--budget-reset-time", reset_time, checks.reset_time)
    policy = durations.ResetPolicy(timezone_, reset_time)
    checks.flag("--min-drift", min_drift, checks.number)
    moment = _timestamp(now)
    spec = limits.load(file, policy) if file else None
    if spec is not None and spec.deprecation():
        common.info(ctx, f"dbctl: warning: {spec.deprecation()}")
    options = SyncOptions(
        now=moment, policy=policy, resets=resets, rollover=rollover,
        default_end_user_budget=end_user_budget, limits=spec, repair_spend=repair_spend,
        settle=timedelta(seconds=settle), min_drift=min_drift, dry_run=dry_run or check,
        lock_timeout=lock_timeout, redis_url=redis_url, redis_namespace=redis_namespace,
        finish_only=finish_invalidations,
    )
    result = sync(common.target(ctx), options)
    _show_sync(ctx, result, brief=check)
    if result.invalidation_error:
        _stale_exit(result)
    if result.pending and result.dry_run:
        common.name_found(ctx, result.summary(), list(dict.fromkeys(
            f"{c.entity} {common.shown_id(c.entity, c.id)}" for c in result.changes)))
        common.exit_with(int(ExitCode.PENDING))


def _show_sync(ctx: typer.Context, result: Any, *, brief: bool) -> None:
    s = common.settings(ctx)
    for warning in result.warnings:
        common.info(ctx, f"dbctl: warning: {warning}")
    if s.output == "json":
        common.dump_json(_sync_payload(result))
        return
    if not brief:
        lines = [line for change in result.changes for line in _change_lines(change)]
        shown = lines if s.verbose or len(lines) <= TABLE_LINES else lines[:TABLE_LINES]
        common.emit(ctx, shown, ["entity", "id", "name", "action", "field", "old", "new"], report=True)
        if len(shown) < len(lines):
            common.info(ctx, f"... and {len(lines) - len(shown)} more lines (-v shows all, --json lists them)")
        skips = result.skipped if s.verbose else result.skipped[:20]
        for skip in skips:
            common.info(ctx, f"left alone: {skip.entity} {skip.id}{f' ({skip.name})' if skip.name else ''}: "
                             f"{skip.reason}")
        if len(skips) < len(result.skipped):
            common.info(ctx, f"... and {len(result.skipped) - len(skips)} more left alone (-v shows all)")
    if result.earlier is not None:
        inv = result.earlier
        common.info(ctx, f"redis: finished what earlier runs owed: deleted {inv.deleted} key(s), published "
                         f"{inv.published} invalidation(s) ({inv.receivers} receiver(s))")
    if result.invalidation is not None:
        inv = result.invalidation
        common.info(ctx, f"redis: deleted {inv.deleted} key(s), published {inv.published} invalidation(s) "
                         f"({inv.receivers} receiver(s))")
    common.line(ctx, result.summary())


def _stale_exit(result: Any) -> None:
    """Exit 1 after a commit whose Redis invalidation failed, naming the entities left stale; they stay
    recorded in the database, and the next run with Redis sends them."""
    from litellm_dbctl.cache import invalidate as cache

    typer.echo(f"dbctl: error: budget changes are committed, but invalidating the proxies' Redis failed: "
               f"{result.invalidation_error}", err=True)
    typer.echo(f"  proxies may keep enforcing the old spend or limits of {len(result.stale)} entities "
               f"(at least {cache.DEFAULT_OBJECT_TTL_SECONDS} s after their last request): "
               f"{common.stale_names(result.stale)}", err=True)
    typer.echo("  they stay recorded: the next `budget sync --redis-url` (or `--finish-invalidations`) sends them",
               err=True)
    common.exit_with(int(ExitCode.ERROR))


def _change_lines(change: Any) -> list[dict[str, Any]]:
    head = {"entity": change.entity if change.team_id is None else f"{change.entity} ({change.team_id})",
            "id": common.shown_id(change.entity, change.id), "name": change.name,
            "action": change.action if change.via is None or change.action == "repair" else
            f"{change.action} via {change.via}"}
    return [{**head, "field": name, "old": old, "new": new} for name, (old, new) in change.fields.items()]


def _sync_payload(result: Any) -> dict[str, Any]:
    return {
        "dry_run": result.dry_run,
        "now": result.now,
        "timezone": result.policy.timezone,
        "reset_time": result.policy.reset_time,
        "summary": result.counts(),
        "changes": [{"entity": c.entity, "id": c.id, "name": c.name, "team_id": c.team_id, "action": c.action,
                     "via": c.via, "changes": {name: {"old": old, "new": new} for name, (old, new) in c.fields.items()}}
                    for c in result.changes],
        "skipped": [{"entity": k.entity, "id": k.id, "name": k.name, "reason": k.reason} for k in result.skipped],
        "warnings": list(result.warnings),
        "redis": _redis_payload(result),
        "seconds": round(result.seconds, 3),
    }


def _redis_payload(result: Any) -> dict[str, Any] | None:
    earlier = {} if result.earlier is None else {"earlier": _counts(result.earlier)}
    if result.invalidation_error:
        return {"error": result.invalidation_error,
                "stale": common.stale_records(result.stale), **earlier}
    if result.invalidation is None:
        return earlier or None
    return {**_counts(result.invalidation), **earlier}


def _counts(inv: Any) -> dict[str, int]:
    return {"deleted": inv.deleted, "published": inv.published, "receivers": inv.receivers}


@app.command("status")
def status_command(
    ctx: typer.Context,
    types: Optional[list[str]] = typer.Option(None, "--type", "-t", metavar="TYPE",
                                              help="Only these entity types (repeatable): key, user, team, org, "
                                                   "end_user, tag, team_member."),
    team: Optional[str] = typer.Option(None, "--team", metavar="TEAM",
                                       help="Only the team (id or alias), its keys, members and memberships."),
    org: Optional[str] = typer.Option(None, "--org", metavar="ORG",
                                      help="Only the organization (id or alias), its teams, their keys, and its "
                                           "users."),
    near: float = typer.Option(80.0, "--near", metavar="PERCENT", min=0,
                               help="Flag 'near' from this share of max_budget."),
    over: bool = typer.Option(False, "--over", help="Only entities over their max_budget."),
    flagged: bool = typer.Option(False, "--flagged", help="Only entities flagged over, soft or near."),
    everything: bool = typer.Option(False, "--all", help="Also entities without a max or soft budget."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", metavar="N", min=1, help="At most N rows."),
    end_user_budget: Optional[str] = END_USER_BUDGET,
    fail_over: bool = typer.Option(False, "--fail-over", help="Exit 3 when any entity shown is over budget."),
) -> None:
    """Spend against max and soft budget per entity, % used, next reset and a flag (over, soft,
    near, ok), most used first.

    Example: dbctl budget status --team research --flagged --fail-over
    """
    from litellm_dbctl.budget.status import STATUS_ENTITIES, status  # deferred: loads psycopg

    checks.flag("--near", near, checks.number)
    with common.connect(ctx, read_only=True) as conn:
        rows = status(conn, entities=_kinds(types) or STATUS_ENTITIES, team=team, org=org, near_pct=near,
                      only="over" if over else "flagged" if flagged else "all", everything=everything,
                      limit=limit, default_end_user_budget=end_user_budget)
    columns = ["entity", "id", "name", "spend", "max_budget", "soft_budget", "used_pct", "next_reset", "flag"]
    table = common.settings(ctx).output == "table"
    common.emit(ctx, [_status_record(r, table) for r in rows], columns, whole=["next_reset"], report=fail_over,
                json_payload=[common.to_jsonable(r) for r in rows])
    over_budget = [r for r in rows if r.flag == "over"]
    common.line(ctx, f"{len(rows)} entit{'y' if len(rows) == 1 else 'ies'}, {len(over_budget)} over budget")
    if fail_over and over_budget:
        common.name_found(ctx, f"{len(over_budget)} entit{'y' if len(over_budget) == 1 else 'ies'} over budget",
                          [f"{r.entity} {r.id}{f' ({r.name})' if r.name and r.name != r.id else ''} "
                           f"spent {float(r.spend or 0):g} of {float(r.max_budget or 0):g}" for r in over_budget])
        common.exit_with(int(ExitCode.PENDING))


def _kinds(values: Optional[list[str]]) -> list[str]:
    """--type values: `end-user` as the other commands spell kinds, `end_user` as JSON does."""
    return [part.strip().replace("-", "_") for value in values or [] for part in value.split(",") if part.strip()]


def _status_record(row: Any, table: bool) -> dict[str, Any]:
    """A row of the table (percent with its `%`, the table's timestamp format) or of the CSV."""
    from litellm_dbctl.cli import tables

    record: dict[str, Any] = common.to_jsonable(row)
    if table:
        record |= {"used_pct": None if row.used_pct is None else tables.Percent(row.used_pct),
                   "next_reset": row.next_reset}
    if row.team_id and row.entity == "team_member":
        record["entity"] = f"team_member ({row.team_id})"
    if row.reset_overdue:
        shown = tables.cell(row.next_reset) if table else record["next_reset"]
        record["next_reset"] = f"{shown} (overdue)"
    return record


def _timestamp(text: Optional[str]) -> Any:
    """--now: an ISO 8601 timestamp, UTC unless it says otherwise."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(checks.text(text).replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        inside = NOW_RANGE[0] <= moment <= NOW_RANGE[1]
    except (ValueError, OverflowError):
        raise InvalidInput(f"--now: not an ISO 8601 timestamp: {text!r}") from None
    if not inside:  # the windows it computes (a year at most ahead) must stay dates Python holds
        raise InvalidInput(f"--now: {text!r} is outside {NOW_RANGE[0]:%Y-%m-%d} to {NOW_RANGE[1]:%Y-%m-%d}")
    return moment


RESET_COLUMNS = ["entity", "id", "name", "field", "old", "new"]


@app.command("reset")
@provisioning.with_settings(windows=True)
def reset_command(
    ctx: typer.Context,
    key: Optional[list[str]] = typer.Option(None, "--key", metavar="KEY",
                                            help="A key (alias, token, its first 8+ characters or the raw key)."),
    user: Optional[list[str]] = typer.Option(None, "--user", metavar="USER", help="A user (user_id, SSO id or email)."),
    team: Optional[list[str]] = typer.Option(None, "--team", metavar="TEAM", help="A team (id or alias)."),
    org: Optional[list[str]] = typer.Option(None, "--org", metavar="ORG", help="An organization (id or alias)."),
    end_user: Optional[list[str]] = typer.Option(None, "--end-user", metavar="END_USER",
                                                 help="An end user (id or alias)."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Reset the spend of the named entities now (each option repeatable; at least one), as LiteLLM's
    /key/{key}/reset_spend resets a key's: spend 0, each budget_limits window restarted from now (its
    LiteLLM_BudgetWindowSpend row too); a budget_reset_at that is due or missing moves to the next
    boundary, a running one stays. Audit rows (`updated`); with --redis-url the entities' Redis counters
    and cached objects go. One transaction under the budget advisory lock; --dry-run exits 3 when
    anything would change.

    Example: dbctl budget reset --key ci-bot --team Research --redis-url redis://cache:6379
    """
    from litellm_dbctl.budget.spend_reset import ResetOptions, reset
    from litellm_dbctl.common.errors import InvalidInput

    refs = [(kind, value.strip()) for kind, values, flag in (
        ("key", key, "--key"), ("user", user, "--user"), ("team", team, "--team"), ("org", org, "--org"),
        ("end_user", end_user, "--end-user")) for value in values or () if checks.flag(flag, value, checks.text)]
    if not refs:
        raise InvalidInput("say whose spend to reset: --key, --user, --team, --org and/or --end-user")
    checks.flag("--actor", settings.actor, checks.text)
    options = ResetOptions(actor=settings.actor, audit=settings.audit, dry_run=settings.dry_run,
                           lock_timeout=settings.lock_timeout,
                           policy=durations.ResetPolicy(settings.timezone, settings.reset_time),
                           redis_url=settings.redis_url, redis_namespace=settings.redis_namespace)
    result = reset(common.target(ctx), refs, options)
    lines = [{"entity": r.entity, "id": common.shown_id(r.entity, r.id), "name": r.name, "field": name,
              "old": old, "new": new} for r in result.resets for name, (old, new) in r.fields.items()]
    if common.settings(ctx).output == "json":
        common.dump_json({
            "dry_run": result.dry_run, "now": result.now,
            "resets": [{"entity": r.entity, "id": r.id, "name": r.name,
                        "changes": {n: {"old": o, "new": v} for n, (o, v) in r.fields.items()}} for r in result.resets],
            "redis": _redis_payload(result)})
    else:
        common.emit(ctx, lines, RESET_COLUMNS, report=True)
    if result.earlier is not None:
        common.info(ctx, f"redis: finished what earlier runs owed: deleted {result.earlier.deleted} key(s), "
                         f"published {result.earlier.published} invalidation(s)")
    if result.invalidation is not None:
        inv = result.invalidation
        common.info(ctx, f"redis: deleted {inv.deleted} key(s), published {inv.published} invalidation(s) "
                         f"({inv.receivers} receiver(s))")
    elif result.changed and not result.dry_run and not result.invalidation_error:
        common.info(ctx, "note: no --redis-url: running proxies keep enforcing the old spend from their counters "
                         "until those expire (about 60 s after the entity's last request); pass --redis-url")
    count = len(result.changed)
    unchanged = len(result.resets) - count
    common.line(ctx, f"{'would reset' if result.dry_run else 'reset'} {count} entit{'y' if count == 1 else 'ies'}"
                + (f", {unchanged} already reset (nothing to change)" if unchanged else "")
                + (" (dry run, rolled back)" if result.dry_run else ""))
    if result.invalidation_error:
        _stale_exit(result)
    if result.dry_run and count:
        common.name_found(ctx, f"would reset {count} entit{'y' if count == 1 else 'ies'}",
                          [f"{r.entity} {common.shown_id(r.entity, r.id)}" for r in result.changed])
        common.exit_with(int(ExitCode.PENDING))
