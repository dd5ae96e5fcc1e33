"""What every provisioning command shares (`provision apply`, `user|team|org provision`, add/remove
member, `key create|block|unblock|delete`): its options, running a spec, and rendering the plan
and what the proxies' Redis was told after the commit.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple, Optional

import typer

from litellm_dbctl.cli import common
from litellm_dbctl.common import checks
from litellm_dbctl.common.errors import OperationalError

BATCH_SIZE = typer.Option(None, "--batch-size", metavar="N", min=1,
                          help="Apply in chunks of N users, one transaction each (safe to re-run after a failure).")
ACTOR = typer.Option("dbctl", "--actor", metavar="NAME",
                     help="Who made the change: audit changed_by, created_by/updated_by.")
NO_AUDIT = typer.Option(False, "--no-audit", help="Write no LiteLLM_AuditLog rows.")
REDIS_URL = typer.Option(None, "--redis-url", metavar="URL", envvar="REDIS_URL", show_envvar=True,
                         help="The proxies' Redis: drop their cached copies of what changed, so they see it at once.")
REDIS_NAMESPACE = typer.Option(None, "--redis-namespace", metavar="NS",
                               help="The proxies' Redis cache namespace (keys are prefixed NS:).")
TIMEZONE = typer.Option("UTC", "--timezone", metavar="ZONE",
                        help="LiteLLM's litellm_settings.timezone: where budget windows are aligned.")
RESET_TIME = typer.Option("00:00", "--budget-reset-time", metavar="HH:MM",
                          help="LiteLLM's litellm_settings.budget_reset_time.")
KEYS_OUT = typer.Option(None, "--keys-out", metavar="FILE", dir_okay=False,
                        help="Append the raw keys this run creates to FILE (mode 0600), written and fsynced "
                             "before the commit: a run killed after its commit loses no key. Use it in "
                             "automation.")
EXACT_MEMBERS = typer.Option(False, "--exact-members",
                             help="Remove the members of the spec's teams and organizations that it does not list "
                                  "(from every place LiteLLM keeps a membership).")
PRUNE = typer.Option(False, "--prune",
                     help="Delete the keys, users, teams and organizations a spec created (metadata.dbctl_managed) "
                          "that the spec no longer lists; nothing made otherwise.")
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
    keys_out: Optional[str] = None
    managed: bool = False  # mark what is created from a spec file (provision apply)
    exact_members: bool = False
    prune: bool = False

    def __post_init__(self) -> None:
        """A bad --timezone or --budget-reset-time is exit 2 naming the flag, before anything is read."""
        checks.flag("--timezone", self.timezone, checks.zone)
        checks.flag("--budget-reset-time", self.reset_time, checks.reset_time)


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
    "keys_out": (Optional[str], KEYS_OUT),
}


def with_settings(*, redis: bool = True, lock: bool = True, windows: bool = False, batches: bool = False,
                  creates: bool = False, keys: bool = False) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the shared options (--dry-run, --actor, --no-audit; --redis-url and
    --redis-namespace with `redis`; --lock-timeout with `lock`; --timezone and --budget-reset-time
    with `windows`; --batch-size with `batches`; --proxy-config with `creates`, for commands that
    create users or teams; --keys-out with `keys`, for commands that create keys) and call
    it with them as `settings: RunSettings`."""
    wanted = {"batch_size": batches, "redis_url": redis, "redis_namespace": redis, "lock_timeout": lock,
              "timezone": windows, "budget_reset_time": windows, "proxy_config": creates, "keys_out": keys}

    def build(dry_run: bool, actor: str, no_audit: bool, redis_url: Optional[str] = None,
              redis_namespace: Optional[str] = None, lock_timeout: float = 0.0, timezone: str = "UTC",
              budget_reset_time: str = "00:00", batch_size: Optional[int] = None,
              proxy_config: Optional[str] = None, keys_out: Optional[str] = None) -> RunSettings:
        if redis_url:  # a malformed URL is exit 2 before anything is written, not a failure after the commit
            from litellm_dbctl.cache.client import parse_url

            parse_url(redis_url)
        return RunSettings(dry_run, actor, not no_audit, redis_url, redis_namespace, lock_timeout, timezone,
                           budget_reset_time, batch_size, proxy_config, keys_out)

    return common.option_group("settings", {name: option for name, option in SHARED_OPTIONS.items()
                                            if wanted.get(name, True)}, build)


@contextmanager
def keys_file(settings: RunSettings) -> Iterator[Any]:
    """The --keys-out file (`provision.keysout.KeysOut`) open for the run, closed after; None without
    --keys-out or in a dry run (which creates no key)."""
    if not settings.keys_out or settings.dry_run:
        yield None
        return
    from litellm_dbctl.provision.keysout import KeysOut

    keys_out = KeysOut(settings.keys_out)
    try:
        yield keys_out
    finally:
        keys_out.close()


def options(settings: RunSettings) -> Any:
    """The library's provisioning options (`provision.plan.Options`) for these settings."""
    from litellm_dbctl.provision import plan

    return plan.options(actor=settings.actor, audit=settings.audit, timezone=settings.timezone,
                        reset_time=settings.reset_time, proxy_config=settings.proxy_config,
                        redis_url=settings.redis_url, redis_namespace=settings.redis_namespace,
                        managed=settings.managed, exact_members=settings.exact_members, prune=settings.prune)


def split_list(values: Optional[list[str]]) -> list[str]:
    """Repeatable, comma-separated option values as one list."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def member_entries(values: Optional[list[str]], roles: tuple[str, ...]) -> list[dict[str, Any]]:
    """`USER[:ROLE]` options as members_with_roles entries (an email when USER contains @)."""
    from litellm_dbctl.common.errors import InvalidInput

    entries = []
    for value in values or []:
        user, _, given = value.rpartition(":") if ":" in value else (value, "", "")
        role = given or None
        if role is not None and role not in roles:
            raise InvalidInput(f"--member {value!r}: unknown role {role!r} (expected one of: {', '.join(roles)})")
        entry = {"user_email" if "@" in user else "user_id": user.strip()}
        entries.append(entry | ({"role": role} if role else {}))
    return entries


def check_limits(**flags: Any) -> None:
    """Budget and limit flags checked before anything else (InvalidInput naming the flag): NaN, an
    infinity or a number past its column refused. Keyword: `max_budget` for --max-budget; a name
    ending in `_limit` is a whole number."""
    from litellm_dbctl.common import checks

    for name, value in flags.items():
        checks.flag("--" + name.replace("_", "-"), value, checks.whole if name.endswith("_limit") else checks.number)


def from_flags(ctx: typer.Context, section: str, record: dict[str, Any]) -> Any:
    """The spec of one command's flags (`section`: teams, users, organizations; None values left out).
    A bad value is reported naming its flag (`--budget-duration: ...`), not as a spec file's field path."""
    from litellm_dbctl.common.errors import InvalidSpec
    from litellm_dbctl.provision import specs

    given = {k: v for k, v in record.items() if v is not None}
    try:
        return specs.from_records([(section, given)], "flags")
    except InvalidSpec as exc:
        raise flag_problems(ctx, exc, given) from None


def flag_problems(ctx: typer.Context, exc: Any, record: dict[str, Any] | None = None) -> Exception:
    """A flags spec's InvalidSpec as one line naming each flag (or argument) instead of a field path."""
    from litellm_dbctl.common.errors import InvalidInput

    return InvalidInput("; ".join(_flag_problem(ctx, p, record or {}) for p in exc.problems))


def _flag_problem(ctx: typer.Context, problem: str, record: dict[str, Any]) -> str:
    import re

    found = re.match(r"flags: (?:(?:users|teams|organizations|keys)\.)?(\w+)\S*: (.*)", problem, re.DOTALL)
    if found is None:
        return problem.removeprefix("flags: ")
    field, text = found.groups()
    text = text.replace("exists neither in the file nor in the database", "does not exist")  # no file here
    options = [p for p in ctx.command.params if p.param_type_name == "option" and p.name]
    flags = {o for p in options for o in p.opts}
    named = ([max(p.opts, key=len) for p in options if p.name == field]
             or [max(p.opts, key=len) for p in options if field in record and ctx.params.get(str(p.name)) is record[field]]
             or [f for f in FLAG_OF.get(field, ()) if f in flags])
    return f"{named[0]}: {text}" if named else f"{field}: {text}"


# A spec field given by a flag of another name (the first the command has is meant).
FLAG_OF: dict[str, tuple[str, ...]] = {
    "team_alias": ("--alias",), "organization_alias": ("--alias",), "user_alias": ("--alias",),
    "organization_id": ("--org-id", "--org"), "sso_user_id": ("--sso-id",), "user_email": ("--email",),
    "user_role": ("--role",), "teams": ("--team",), "organizations": ("--org",), "members_with_roles": ("--member",),
    "team_member_budget": ("--team-member-budget", "--member-budget"),
    "team_member_budget_duration": ("--team-member-budget-duration", "--member-budget-duration"),
}


def execute(ctx: typer.Context, spec: Any, settings: RunSettings) -> None:
    """Plan and apply (or dry-run) `spec`, report; exit 3 on a dry run with changes."""
    from litellm_dbctl.common.errors import InvalidSpec
    from litellm_dbctl.provision import apply
    progress = None
    if settings.batch_size and not settings.dry_run:
        def progress(chunk: Any, total: int) -> None:
            s = chunk.summary
            common.info(ctx, f"chunk {chunk.number}/{total}: {chunk.users} users, {s.create} created, "
                             f"{s.update} updated, {s.unchanged} unchanged")
    with keys_file(settings) as keys_out:
        try:
            outcome = apply.run(common.target(ctx), spec, options=options(settings), dry_run=settings.dry_run,
                                batch_size=settings.batch_size, lock_timeout=settings.lock_timeout,
                                command=common.command_name(ctx), on_chunk=progress, keys_out=keys_out)
        except InvalidSpec as exc:
            if spec.source != "flags":
                raise
            raise flag_problems(ctx, exc) from None
        except apply.ChunkFailed as failed:  # the chunks before it are committed: report them, then fail
            if failed.outcome.chunks:
                stale = report(ctx, failed.outcome, settings).failure
                if stale is not None:  # the chunk's error is raised: Redis's must not be lost under it
                    typer.echo(f"dbctl: error: {stale.message}", err=True)
            raise
    if keys_out is not None and outcome.created_keys:
        common.info(ctx, f"{len(outcome.created_keys)} created key(s) appended to {settings.keys_out}")
    published = report(ctx, outcome, settings)
    common.keep_until_exit(spec, outcome)
    published.raise_failure()
    if settings.dry_run and outcome.plan.changed:
        common.name_found(ctx, f"{outcome.plan.summary().changed} change(s) pending",
                          [f"{i.action} {i.kind} {i.id or i.label}" for i in outcome.plan.items if i.action != "unchanged"])
        raise typer.Exit(3)


def remove(ctx: typer.Context, kind: str, group: str, user: str, settings: RunSettings) -> None:
    """team/org remove-member: undo the membership everywhere, report."""
    from litellm_dbctl.provision import remove as removal

    outcome = removal.remove_member(common.target(ctx), kind, group, user, options=options(settings),
                                    dry_run=settings.dry_run, lock_timeout=settings.lock_timeout)
    finish(ctx, outcome, settings)


def retire(ctx: typer.Context, action: str, ref: str, settings: RunSettings) -> None:
    """user delete|offboard, team delete, org delete: run the library's `action`, report."""
    from litellm_dbctl.provision import delete
    from litellm_dbctl.provision import retire as retiring

    run = {"user delete": delete.delete_user, "team delete": delete.delete_team, "org delete": delete.delete_org,
           "user offboard": retiring.offboard}[action]
    outcome = run(common.target(ctx), ref, options=options(settings), dry_run=settings.dry_run,
                  lock_timeout=settings.lock_timeout)
    finish(ctx, outcome, settings)


def finish(ctx: typer.Context, outcome: Any, settings: RunSettings) -> None:
    """Report a one-transaction change (plan, what the proxies were told); exit 3 on a dry run with changes."""
    report(ctx, outcome, settings).raise_failure()
    if settings.dry_run and outcome.plan.changed:
        common.name_found(ctx, f"{outcome.plan.summary().changed} change(s) pending",
                          [f"{i.action} {i.kind} {i.id or i.label}" for i in outcome.plan.items if i.action != "unchanged"])
        raise typer.Exit(3)


CREATED_KINDS = ("organization", "team", "user")  # objects whose id a run prints (keys: their raw key)


class StaleCache(OperationalError):
    """Redis failed after the commit. Raised only once the result is shown (a created raw key is
    printed once, ever), naming what proxies may serve stale: a re-run finds nothing to redo."""

    def __init__(self, error: str, refs: Any) -> None:
        from litellm_dbctl.cache.invalidate import DEFAULT_OBJECT_TTL_SECONDS

        self.error = error
        self.refs = refs
        super().__init__(f"changes are committed, but invalidating the proxies' Redis cache failed: {error}; "
                         f"proxies may serve the old copies of {len(refs)} object(s) until their cache TTL "
                         f"({DEFAULT_OBJECT_TTL_SECONDS} s) ends: {common.stale_names(refs)}")


class Published(NamedTuple):
    """What telling the proxies did: the JSON `cache` member, or the Redis failure to raise after the output."""

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


def published(ctx: typer.Context, invalidated: Any, objects: int) -> Published:
    """Say on stderr what the library's invalidation after a commit of `objects` changed objects did
    (`invalidated`: its result; None without a Redis to tell), or how long until proxies notice.
    A Redis failure is returned, not raised: the caller shows the committed result first."""
    from litellm_dbctl.cache.invalidate import DEFAULT_OBJECT_TTL_SECONDS

    if not objects:
        return Published()
    if invalidated is None:
        common.info(ctx, f"note: running proxies see updated objects within {DEFAULT_OBJECT_TTL_SECONDS} s "
                         "(their cache TTL); pass --redis-url (or set REDIS_URL) to make it immediate")
        return Published()
    if invalidated.error is not None:
        return Published(failure=StaleCache(invalidated.error, invalidated.refs))
    result = invalidated.result
    common.info(ctx, f"invalidated {objects} cached object(s) in Redis: {result.deleted} key(s) deleted, "
                     f"{result.published} message(s) published")
    return Published({"objects": objects, "deleted": result.deleted, "published": result.published,
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
    """What the proxies were told after the commit, then the outcome with the result."""
    committed = len(outcome.refs) if outcome.applied and outcome.written else 0
    told = published(ctx, outcome.invalidated, committed)
    render(ctx, outcome, dry_run=settings.dry_run, published=told)
    return told


def render(ctx: typer.Context, outcome: Any, *, dry_run: bool, published: Published) -> None:
    """The plan (JSON: every item; table: what changes, all with -v), created keys and a summary."""
    s = common.settings(ctx)
    plan = outcome.plan
    summary = plan.summary()
    keys = [{"key_alias": k.key_alias, "key": k.raw, "key_name": k.key_name, "token": k.token}
            for k in outcome.created_keys]
    created = [] if dry_run else [{"kind": i.kind, "id": i.id, "label": i.label} for i in plan.items
                                  if i.action == "create" and i.kind in CREATED_KINDS]
    if s.output == "json":
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
            "created": created,
            "cache": published.cache,
            "redis": published.redis,
        })
        return
    shown = [i for i in plan.items if i.action != "unchanged" or s.verbose]
    if dry_run or s.verbose or s.output == "csv":
        rows = [{"action": i.action, "kind": i.kind, "id": i.id, "label": i.label,
                 "changes": _changes_text(i, 10_000 if s.output == "csv" else 160)} for i in shown]
        common.emit(ctx, rows, ["action", "kind", "id", "label", "changes"], prose=["changes"], report=True)
    if created:  # the ids later commands take (a new user's generated user_id): data, even with -q
        sys.stdout.write("".join(f"{c['kind']}\t{c['id']}\t{c['label']}\n" for c in created))
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
