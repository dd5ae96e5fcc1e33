"""`dbctl key`: create (raw key printed once), list, block, unblock and delete virtual keys; update, rotate,
info and prune are in cli/key_lifecycle.py."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from litellm_dbctl.cli import common, key_lifecycle, provisioning
from litellm_dbctl.cli.key_lifecycle import KEY_REF
from litellm_dbctl.common import checks

app = typer.Typer(help="Create, change, rotate, list, block and delete virtual keys.", no_args_is_help=True)

KEY_COLUMNS = ["token", "key_alias", "key_name", "user_id", "team_id", "spend", "max_budget", "budget_duration",
               "expires", "blocked"]
KEY_OPTIONAL = ["key_name", "budget_duration", "max_budget"]  # left out first when a terminal is too narrow
MAX_STDIN_KEY = 4096  # bytes --key-stdin reads: a key is short; more is a wrong pipe


@app.command("create")
@provisioning.with_settings(redis=False, windows=True, keys=True)
def create(
    ctx: typer.Context,
    user: Optional[str] = typer.Option(None, "--user", help="Owner (user_id, SSO id or email)."),
    team: Optional[str] = typer.Option(None, "--team", help="Team (id or alias)."),
    alias: Optional[str] = typer.Option(None, "--alias", help="key_alias; must be unused (LiteLLM's rule)."),
    models: Optional[list[str]] = typer.Option(None, "--models", metavar="M1,M2", help="Models the key may use."),
    max_budget: Optional[float] = typer.Option(None, "--max-budget", min=0, help="Key budget in USD."),
    budget_duration: Optional[str] = typer.Option(None, "--budget-duration", metavar="DURATION",
                                                  help="Budget window: 1d, 7d, 1mo, ..."),
    duration: Optional[str] = typer.Option(None, "--duration", metavar="DURATION",
                                           help="Lifetime: the key expires this long from now (e.g. 30d)."),
    tpm_limit: Optional[int] = typer.Option(None, "--tpm-limit", min=0, help="Tokens per minute."),
    rpm_limit: Optional[int] = typer.Option(None, "--rpm-limit", min=0, help="Requests per minute."),
    metadata: Optional[str] = typer.Option(None, "--metadata", metavar="JSON", help="A JSON object."),
    key_from_stdin: bool = typer.Option(False, "--key-stdin",
                                        help="Read the raw key (sk-..., 16+ characters) from stdin instead of "
                                             "generating one (never from the command line, where ps shows it)."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Create a key as /key/generate does. The raw key is printed once on stdout (even with -q); the
    database keeps only its SHA-256. JSON: {key, token, key_name, key_alias, user_id, team_id, expires, ...}.

    Example: dbctl key create --user admin --alias admin-cli --duration 90d
    """
    from litellm_dbctl.common.errors import InvalidInput
    from litellm_dbctl.keys import manage

    meta = checks.flag("--metadata", metadata, checks.json_text)
    if meta is not None and not isinstance(meta, dict):
        raise InvalidInput("--metadata: expected a JSON object")
    checks.flag("--alias", alias, checks.name)
    raw = _stdin_key() if key_from_stdin else None
    new = manage.NewKey(user_id=user, team=team, key_alias=alias, models=provisioning.split_list(models),
                        max_budget=max_budget, budget_duration=budget_duration, duration=duration, tpm_limit=tpm_limit,
                        rpm_limit=rpm_limit, metadata=meta, raw_key=raw)
    dry_run = settings.dry_run
    with provisioning.keys_file(settings) as keys_out:
        created = manage.create(common.target(ctx), new, options=provisioning.options(settings), dry_run=dry_run,
                                lock_timeout=settings.lock_timeout, keys_out=keys_out)
    row = {k: v for k, v in created.row.items() if k != "metadata" or v}
    if dry_run and raw is None:  # the key a real run generates is not this dry run's: no token or name yet
        row |= {"token": None, "key_name": None}
    if common.settings(ctx).output == "json":
        common.dump_json({"dry_run": dry_run, "key": None if dry_run else created.key.raw, **row})
    elif dry_run:
        name = created.key.key_alias or (created.key.key_name if raw is not None else "(generated)")
        common.line(ctx, f"would create key {name}; nothing written")
    else:
        sys.stdout.write(created.key.raw + "\n")
        common.info(ctx, f"created key {created.key.key_alias or created.key.key_name} (token "
                         f"{created.key.token[:12]}…); " + (f"also in {settings.keys_out}" if settings.keys_out else
                                                           "store it now: dbctl cannot show it again"))
    if dry_run:
        raise typer.Exit(3)


def _stdin_key() -> str:
    """--key-stdin: one line of UTF-8 text, the key; a second line or a NUL is refused, not ignored."""
    from litellm_dbctl.common.errors import InvalidInput

    data = sys.stdin.buffer.read(MAX_STDIN_KEY + 1)
    if len(data) > MAX_STDIN_KEY:
        raise InvalidInput(f"--key-stdin: more than {MAX_STDIN_KEY} bytes on stdin (expected one key)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"--key-stdin: not UTF-8 text (byte {exc.start})") from None
    key = text.rstrip("\r\n")
    if "\n" in key or "\r" in key:
        raise InvalidInput("--key-stdin: more than one line on stdin (expected the key alone)")
    checked = checks.flag("--key-stdin", key.strip(), checks.text)
    assert checked is not None
    return checked


@app.command("list")
def list_keys(
    ctx: typer.Context,
    user: Optional[str] = typer.Option(None, "--user", help="Only keys of this user (user_id, SSO id or email)."),
    team: Optional[str] = typer.Option(None, "--team", help="Only keys of this team (id or alias)."),
    alias: Optional[str] = typer.Option(None, "--alias", help="Only aliases containing this (case-insensitive)."),
    full_hash: bool = typer.Option(False, "--full-hash", help="Show the whole SHA-256 token, not its first 12 characters."),
    expired: bool = typer.Option(False, "--expired", help="Only keys past their expiry."),
    unused_since: Optional[str] = typer.Option(None, "--unused-since", metavar="WHEN",
                                               help="Only keys not used since WHEN (last_active; never used: created "
                                                    f"before it): {key_lifecycle.WHEN_FORMS}."),
    limit: int = typer.Option(1000, "--limit", "-n", min=1, help="At most this many keys."),
) -> None:
    """Keys with alias, key_name, owner, spend, budget, expiry and blocked state (and last_active with
    --expired or --unused-since). Never a raw key (the database does not have it); the token hash only
    shortened unless --full-hash.

    Example: dbctl key list --team research --unused-since 90d
    """
    from litellm_dbctl.provision import accounts

    since = key_lifecycle._moment("--unused-since", unused_since)
    with common.connect(ctx, read_only=True) as conn:
        if expired or since is not None:
            from litellm_dbctl.keys import info

            rows = info.lifecycle_keys(conn, user=user, team=team, alias=alias, expired=expired, unused_since=since,
                                       limit=limit)
        else:
            rows = accounts.keys(conn, user=user, team=team, alias=alias, limit=limit)
    columns = KEY_COLUMNS + (["last_active"] if expired or since is not None else [])
    common.emit(ctx, [accounts.shorten(r, full_hash=full_hash) for r in common.warn_if_cut(ctx, rows, limit, "keys")],
                columns, whole=["token"], optional=KEY_OPTIONAL)


def _change(ctx: typer.Context, change: object, settings: provisioning.RunSettings) -> None:
    """Report a block/unblock/delete and what the proxies' Redis was told; exit 3 for a dry run that would act."""
    from litellm_dbctl.keys import manage

    assert isinstance(change, manage.KeyChange)
    dry_run = settings.dry_run
    published = provisioning.published(ctx, change.invalidated,
                                       1 if change.action != "unchanged" and not dry_run else 0)
    if common.settings(ctx).output == "json":
        common.dump_json({"dry_run": dry_run, "token": change.token, "key_alias": change.key_alias,
                          "action": change.action, "redis": published.redis})
    else:
        name = change.key_alias or change.token[:12] + "…"
        common.line(ctx, f"{'would be ' if dry_run and change.action != 'unchanged' else ''}{change.action}: {name}")
    published.raise_failure()
    if dry_run and change.action != "unchanged":
        raise typer.Exit(3)


def _block(ctx: typer.Context, key: str, blocked: bool, settings: provisioning.RunSettings) -> None:
    from litellm_dbctl.keys import manage

    change = manage.set_blocked(common.target(ctx), key, blocked, options=provisioning.options(settings),
                                dry_run=settings.dry_run, lock_timeout=settings.lock_timeout)
    _change(ctx, change, settings)


@app.command("block")
@provisioning.with_settings()
def block(ctx: typer.Context, key: str = KEY_REF, *, settings: provisioning.RunSettings) -> None:
    """Block a key (blocked = true), as /key/block does; audited as `blocked`.

    Example: dbctl key block admin-cli
    """
    _block(ctx, key, True, settings)


@app.command("unblock")
@provisioning.with_settings()
def unblock(ctx: typer.Context, key: str = KEY_REF, *, settings: provisioning.RunSettings) -> None:
    """Unblock a key (blocked = false), as /key/unblock does; audited as `unblocked`.

    Example: dbctl key unblock admin-cli
    """
    _block(ctx, key, False, settings)


@app.command("delete")
@provisioning.with_settings()
def delete(ctx: typer.Context, key: str = KEY_REF, *, settings: provisioning.RunSettings) -> None:
    """Delete a key as /key/delete does: a copy goes to LiteLLM_DeletedVerificationToken, the row is
    removed, an audit row `deleted` is written.

    Example: dbctl key delete 3f2a9c1b7d4e
    """
    from litellm_dbctl.keys import manage

    change = manage.delete(common.target(ctx), key, options=provisioning.options(settings), dry_run=settings.dry_run,
                           lock_timeout=settings.lock_timeout)
    _change(ctx, change, settings)


app.command("update")(key_lifecycle.update)
app.command("rotate")(key_lifecycle.rotate)
app.command("info")(key_lifecycle.info)
app.command("prune")(key_lifecycle.prune)
