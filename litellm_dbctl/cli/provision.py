"""`dbctl provision`: one spec file of organizations, teams, users and keys, planned then applied.

Also the options and the plan rendering every provisioning command shares (`user provision`,
`team provision`, `org provision`, add/remove member), and the rendering of `user|team|org show`:
they import them from here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple, Optional

import typer

from litellm_dbctl.cli import common
from litellm_dbctl.common.errors import OperationalError

app = typer.Typer(help="Apply one spec file of organizations, teams, users and keys.", no_args_is_help=True)

BATCH_SIZE = typer.Option(None, "--batch-size", metavar="N", min=1,
                          help="Apply in chunks of N users, one transaction each (safe to re-run after a failure).")
ACTOR = typer.Option("dbctl", "--actor", metavar="NAME",
                     help="Who made the change: audit changed_by, created_by/updated_by.")
NO_AUDIT = typer.Option(False, "--no-audit", help="Write no LiteLLM_AuditLog rows.")
REDIS_URL = typer.Option(None, "--redis-url", metavar="URL", envvar="REDIS_URL", show_envvar=True,
                         help="The proxies' Redis: drop their cached copies of what changed, so they see it at once.")
REDIS_NAMESPACE = typer.Option(None, "--redis-namespace", metavar="NS",
                               help="The proxies' Redis cache namespace (keys are prefixed NS:).")
TIMEZONE = typer.Option("UTC", "--timezone", metavar="TZ",
                        help="LiteLLM's litellm_settings.timezone: where budget windows are aligned.")
RESET_TIME = typer.Option("00:00", "--budget-reset-time", metavar="HH:MM",
                          help="LiteLLM's litellm_settings.budget_reset_time.")
PROXY_CONFIG = typer.Option(None, "--proxy-config", metavar="PATH",
                            help="The proxy's config.yaml: new users and teams get its litellm_settings defaults "
                                 "(default_internal_user_params, default_team_params, max_internal_user_budget, "
                                 "internal_user_budget_duration), as /user/new and /team/new apply them. Without "
                                 "it, the copy in LiteLLM_Config (store_model_in_db) is used if there is one.")


@dataclass(frozen=True)
class RunSettings:
    """What every provisioning command passes from its options to `execute`."""

    dry_run: bool
    actor: str
    audit: bool
    redis_url: Optional[str]
    redis_namespace: Optional[str]
    lock_timeout: float
    timezone: str
    reset_time: str
    batch_size: Optional[int] = None
    proxy_config: Optional[str] = None


# The options provisioning commands share: parameter -> (type, Typer option).
SHARED_OPTIONS: dict[str, tuple[Any, Any]] = {
    "dry_run": (bool, common.DRY_RUN),
    "batch_size": (Optional[int], BATCH_SIZE),
    "actor": (str, ACTOR),
    "no_audit": (bool, NO_AUDIT),
    "redis_url": (Optional[str], REDIS_URL),
    "redis_namespace": (Optional[str], REDIS_NAMESPACE),
    "lock_timeout": (float, common.LOCK_TIMEOUT),
    "timezone": (str, TIMEZONE),
    "budget_reset_time": (str, RESET_TIME),
    "proxy_config": (Optional[str], PROXY_CONFIG),
}


def with_settings(*, redis: bool = True, lock: bool = True, windows: bool = False, batches: bool = False,
                  creates: bool = False) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the shared options (--dry-run, --actor, --no-audit; --redis-url and
    --redis-namespace with `redis`; --lock-timeout with `lock`; --timezone and --budget-reset-time
    with `windows`; --batch-size with `batches`; --proxy-config with `creates`, for commands that
    create users or teams) and call it with them as `settings: RunSettings`."""
    wanted = {"batch_size": batches, "redis_url": redis, "redis_namespace": redis, "lock_timeout": lock,
              "timezone": windows, "budget_reset_time": windows, "proxy_config": creates}

    def build(dry_run: bool, actor: str, no_audit: bool, redis_url: Optional[str] = None,
              redis_namespace: Optional[str] = None, lock_timeout: float = 0.0, timezone: str = "UTC",
              budget_reset_time: str = "00:00", batch_size: Optional[int] = None,
              proxy_config: Optional[str] = None) -> RunSettings:
        if redis_url:  # a malformed URL is exit 2 before anything is written, not a failure after the commit
            from litellm_dbctl.db.config import split_url

            split_url(redis_url, "--redis-url", ("redis", "rediss"))
        return RunSettings(dry_run, actor, not no_audit, redis_url, redis_namespace, lock_timeout, timezone,
                           budget_reset_time, batch_size, proxy_config)

    return common.option_group("settings", {name: option for name, option in SHARED_OPTIONS.items()
                                            if wanted.get(name, True)}, build)


def options(settings: RunSettings) -> Any:
    from litellm_dbctl.provision import provisioning

    return provisioning.options(actor=settings.actor, audit=settings.audit, timezone=settings.timezone,
                                reset_time=settings.reset_time, proxy_config=settings.proxy_config)


def execute(ctx: typer.Context, spec: Any, settings: RunSettings) -> None:
    """Plan and apply (or dry-run) `spec`, report, invalidate caches; exit 3 on a dry run with changes."""
    from litellm_dbctl.provision import provisioning

    opts = options(settings)
    progress = None
    if settings.batch_size and not settings.dry_run:
        def progress(chunk: Any, total: int) -> None:
            s = chunk.summary
            common.info(ctx, f"chunk {chunk.number}/{total}: {chunk.users} users, {s.create} created, "
                             f"{s.update} updated, {s.unchanged} unchanged")
    try:
        outcome = provisioning.run(common.target(ctx), spec, options=opts, dry_run=settings.dry_run,
                                   batch_size=settings.batch_size, lock_timeout=settings.lock_timeout,
                                   command=common.command_name(ctx), on_chunk=progress)
    except provisioning.ChunkFailed as failed:  # the chunks before it are committed: report them, then fail
        if failed.outcome.chunks:
            stale = report(ctx, failed.outcome, settings).failure
            if stale is not None:  # the chunk's error is raised: Redis's must not be lost under it
                typer.echo(f"dbctl: error: {stale.message}", err=True)
        raise
    published = report(ctx, outcome, settings)
    common.keep_until_exit(spec, outcome)
    published.raise_failure()
    if settings.dry_run and outcome.plan.changed:
        raise typer.Exit(3)


class StaleCache(OperationalError):
    """Redis failed after the commit. Raised only once the result is shown (a created raw key is
    printed once, ever), naming what proxies may serve stale: a re-run finds nothing to redo."""

    def __init__(self, error: str, refs: Sequence[Any]) -> None:
        from litellm_dbctl.cache.invalidate import DEFAULT_OBJECT_TTL_SECONDS

        self.error = error
        self.refs = refs
        super().__init__(f"changes are committed, but invalidating the proxies' Redis cache failed: {error}; "
                         f"proxies may serve the old copies of {len(refs)} object(s) until their cache TTL "
                         f"({DEFAULT_OBJECT_TTL_SECONDS} s) ends: {common.stale_names(refs)}")


class Published(NamedTuple):
    """What `publish` did: the JSON `cache` member, or the Redis failure to raise after the output."""

    cache: Optional[dict[str, Any]] = None
    failure: Optional[StaleCache] = None

    @property
    def redis(self) -> Optional[dict[str, Any]]:
        """The JSON `redis` member: null unless Redis failed after the commit (as budget sync's error form)."""
        if self.failure is None:
            return None
        return {"error": self.failure.error, "stale": common.stale_records(self.failure.refs)}

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure


def publish(ctx: typer.Context, refs: Any, settings: RunSettings) -> Published:
    """Invalidate the proxies' caches after a commit, or say on stderr how long until they notice. A
    Redis failure is returned, not raised: the caller shows the committed result first."""
    from litellm_dbctl.cache import invalidate as cache
    from litellm_dbctl.common.errors import DbctlError
    from litellm_dbctl.common.redaction import redact
    from litellm_dbctl.provision import provisioning

    refs = list(refs)
    if not refs:
        return Published()
    if not settings.redis_url:
        common.info(ctx, f"note: running proxies see updated objects within {cache.DEFAULT_OBJECT_TTL_SECONDS} s "
                         "(their cache TTL); pass --redis-url (or set REDIS_URL) to make it immediate")
        return Published()
    try:
        result = provisioning.invalidate(settings.redis_url, refs, namespace=settings.redis_namespace)
    except DbctlError as exc:
        return Published(failure=StaleCache(redact(exc.message), refs))
    except Exception as exc:
        return Published(failure=StaleCache(redact(f"{type(exc).__name__}: {exc}"), refs))
    common.info(ctx, f"invalidated {len(refs)} cached object(s) in Redis: {result.deleted} key(s) deleted, "
                     f"{result.published} message(s) published")
    return Published({"objects": len(refs), "deleted": result.deleted, "published": result.published,
                      "receivers": result.receivers})


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    import json

    return json.dumps(common.to_jsonable(value), ensure_ascii=False)


def _changes_text(item: Any, width: int = 200) -> str:
    parts = [f"{c.field}: {_show(c.old)} -> {_show(c.new)}" if c.old is not None or item.action != "create"
             else f"{c.field}={_show(c.new)}" for c in item.changes]
    text = "; ".join(parts)
    return text if len(text) <= width else text[:width - 1] + "…"


def report(ctx: typer.Context, outcome: Any, settings: RunSettings) -> Published:
    """Drop the proxies' cached copies of what was committed, then show the outcome with the result."""
    published = publish(ctx, outcome.refs, settings) if outcome.applied and outcome.written else Published()
    render(ctx, outcome, dry_run=settings.dry_run, published=published)
    return published


def render(ctx: typer.Context, outcome: Any, *, dry_run: bool, published: Published) -> None:
    """The plan (JSON: every item; table: what changes, all with -v), created keys and a summary."""
    s = common.settings(ctx)
    plan = outcome.plan
    summary = plan.summary()
    keys = [{"key_alias": k.key_alias, "key": k.raw, "key_name": k.key_name, "token": k.token}
            for k in outcome.created_keys]
    if s.output == "json":
        if s.quiet and not keys:
            return
        common.dump_json({
            "dry_run": dry_run,
            "summary": {"create": summary.create, "update": summary.update, "delete": summary.delete,
                        "unchanged": summary.unchanged, "changed": summary.changed},
            "items": [{"kind": i.kind, "id": i.id, "label": i.label, "action": i.action,
                       "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in i.changes]}
                      for i in plan.items],
            "chunks": [{"chunk": c.number, "users": c.users, "create": c.summary.create, "update": c.summary.update,
                        "unchanged": c.summary.unchanged, "rows_written": c.written} for c in outcome.chunks],
            "rows_written": outcome.written,
            "keys": keys,
            "cache": published.cache,
            "redis": published.redis,
        })
        return
    shown = [i for i in plan.items if i.action != "unchanged" or s.verbose]
    if dry_run or s.verbose or s.output == "csv":
        rows = [{"action": i.action, "kind": i.kind, "id": i.id, "label": i.label,
                 "changes": _changes_text(i, 10_000 if s.output == "csv" else 160)} for i in shown]
        common.emit(ctx, rows, ["action", "kind", "id", "label", "changes"])
    if keys:  # the raw key exists only now: print it even with -q
        sys.stdout.write("".join(f"{k['key_alias'] or k['key_name']}\t{k['key']}\n" for k in keys))
        common.info(ctx, "store the key now: dbctl keeps only its SHA-256 and cannot show it again")
    removed = f", {summary.delete} to remove" if dry_run and summary.delete else \
        (f", removed {summary.delete}" if summary.delete else "")
    if plan.not_applied and summary.create:
        common.info(ctx, "note: dbctl does not apply these proxy settings to what it creates (declare them in "
                         f"the spec instead): {', '.join(plan.not_applied)}")
    if dry_run:
        common.line(ctx, f"plan: {summary.create} to create, {summary.update} to update{removed}, "
                         f"{summary.unchanged} unchanged ({summary.changed} changed)")
    else:
        common.line(ctx, f"created {summary.create}, updated {summary.update}{removed}, unchanged "
                         f"{summary.unchanged} ({summary.changed} changed, {outcome.written} rows written)")


def remove(ctx: typer.Context, kind: str, group: str, user: str, settings: RunSettings) -> None:
    """team/org remove-member: undo the membership everywhere, report, invalidate caches."""
    from litellm_dbctl.provision import provisioning

    outcome = provisioning.remove_member(common.target(ctx), kind, group, user, options=options(settings),
                                         dry_run=settings.dry_run, lock_timeout=settings.lock_timeout)
    report(ctx, outcome, settings).raise_failure()
    if settings.dry_run and outcome.plan.changed:
        raise typer.Exit(3)


class Section(NamedTuple):
    """One table of a show command after the object itself: every column (CSV), and the ones a table shows."""

    title: str
    rows: Sequence[Mapping[str, Any]]
    columns: Sequence[str]
    shown: Sequence[str]


def show(ctx: typer.Context, record: Mapping[str, Any], sections: Sequence[Section], payload: Any) -> None:
    """A show command's output. JSON: `payload`. CSV: the object as one row, then each section as a
    CSV table of its own, header row first even when it has no rows, separated by a blank line, so
    every table is there in a fixed order. Table: the object as field/value lines, then each section
    that has rows, titled."""
    s = common.settings(ctx)
    if s.output == "json":
        common.emit(ctx, (), json_payload=payload)
        return
    if s.output == "csv":
        common.emit(ctx, [record], list(record))
        for section in sections:
            if not s.quiet:
                sys.stdout.write("\n")
            common.emit(ctx, section.rows, section.columns)
        return
    common.emit(ctx, [{"field": k, "value": v} for k, v in record.items()], ["field", "value"])
    for section in sections:
        common.emit(ctx, section.rows, section.shown, title=section.title)


@contextmanager
def paused_gc() -> Iterator[None]:
    """A 10,000-user spec allocates ~10^6 objects and no cycles: the cyclic collector would only
    rescan them (~20% of the run). Paused for the command; before it is restored, what survived is
    frozen (moved out of the collector's sight, still freed by reference counting), or the first
    collection after would scan all of it at once (~45 ms after a 10,000-user apply)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


def load_spec(path: str) -> Any:
    from litellm_dbctl.provision import specs

    return specs.load(path, defer=True)


@app.command("apply")
@with_settings(windows=True, batches=True, creates=True)
def apply(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE|-", help="The spec: YAML or JSON; - reads stdin."),
    *,
    settings: RunSettings,
) -> None:
    """Make the database hold the spec: sections organizations, teams, users, keys (litellm-as-code's
    shape; `virtual_keys` is accepted for `keys`). The whole file is validated first (exit 2, every
    problem with file:line, nothing written); then one transaction writes only what changed. A second
    run of the same spec writes nothing. --dry-run prints the plan, exit 3 when anything would change.

    Example: dbctl provision apply team.yaml --dry-run
    """
    with paused_gc():
        spec = load_spec(file)
        execute(ctx, spec, settings)


@app.command("validate")
def validate(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE|-", help="The spec: YAML or JSON; - reads stdin."),
    timezone: str = TIMEZONE,
    budget_reset_time: str = RESET_TIME,
    proxy_config: Optional[str] = PROXY_CONFIG,
) -> None:
    """Check a spec without writing: syntax, fields, types, emails, durations, roles, duplicates, and
    that every referenced team and organization exists in the file or the database; and the proxy's
    defaults for what it would create (--proxy-config, else the copy in LiteLLM_Config), including
    that its default teams exist, as apply checks them. Exit 0 or 2.

    Example: dbctl provision validate spec.yaml --proxy-config config.yaml
    """
    from litellm_dbctl.provision import provisioning

    spec = load_spec(file)
    settings = RunSettings(True, "dbctl", False, None, None, 0.0, timezone, budget_reset_time,
                           proxy_config=proxy_config)
    with common.connect(ctx, read_only=True) as conn:
        plan = provisioning.make_plan(conn, spec, options(settings))
    summary = plan.summary()
    if common.settings(ctx).output == "json":
        common.dump_json({"valid": True, "objects": len(plan.items), "changed": summary.changed})
    else:
        common.line(ctx, f"{spec.source}: valid ({len(plan.items)} objects, {summary.changed} would change)")
