"""`dbctl provision`: one spec file of organizations, teams, users and keys, planned then applied."""

from __future__ import annotations

from typing import Any, Optional

import typer

from litellm_dbctl.cli import common
from litellm_dbctl.cli.provisioning import (
    EXACT_MEMBERS,
    PROXY_CONFIG,
    PRUNE,
    RESET_TIME,
    TIMEZONE,
    RunSettings,
    execute,
    options,
    paused_gc,
    with_settings,
)

app = typer.Typer(help="Apply one spec file of budget tiers, organizations, teams, users and keys.",
                  no_args_is_help=True)


def load_spec(ctx: typer.Context, path: str, **how: Any) -> Any:
    """The spec, its warnings said on stderr (one line each: a section skipped, ...)."""
    from litellm_dbctl.provision import specs

    spec = specs.load(path, defer=True, **how)
    for warning in spec.warnings:
        common.info(ctx, f"dbctl: warning: {warning}")
    return spec


@app.command("apply")
@with_settings(windows=True, batches=True, creates=True, keys=True)
def apply(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE|-", help="The spec: YAML or JSON; - reads stdin."),
    exact_members: bool = EXACT_MEMBERS,
    prune: bool = PRUNE,
    *,
    settings: RunSettings,
) -> None:
    """Make the database hold the spec: sections budgets, organizations, teams, users, keys
    (litellm-as-code's shape; `virtual_keys` is accepted for `keys`; its credentials, models,
    guardrails and policies are skipped with one warning line each). The whole file is validated first (exit 2, every
    problem with file:line, nothing written); then one transaction writes only what changed. A second
    run of the same spec writes nothing. --dry-run prints the plan, exit 3 when anything would change.
    What it creates is marked (metadata.dbctl_managed): --prune deletes only marked objects the spec
    no longer lists; --exact-members removes the spec's teams' and organizations' unlisted members.

    Example: dbctl provision apply team.yaml --exact-members --prune --dry-run
    """
    from dataclasses import replace

    from litellm_dbctl.common.errors import InvalidInput

    if (exact_members or prune) and settings.batch_size:
        raise InvalidInput(f"--batch-size: {'--exact-members' if exact_members else '--prune'} plans the whole "
                           "spec in one transaction; give no --batch-size")
    settings = replace(settings, managed=True, exact_members=exact_members, prune=prune)
    with paused_gc():
        spec = load_spec(ctx, file)
        execute(ctx, spec, settings)


@app.command("validate")
def validate(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE|-", help="The spec: YAML or JSON; - reads stdin."),
    timezone: str = TIMEZONE,
    budget_reset_time: str = RESET_TIME,
    proxy_config: Optional[str] = PROXY_CONFIG,
    exact_members: bool = EXACT_MEMBERS,
    prune: bool = PRUNE,
) -> None:
    """Check a spec without writing: syntax, fields, types, emails, durations, roles, duplicates, and
    that every referenced team and organization exists in the file or the database; and the proxy's
    defaults for what it would create (--proxy-config, else the copy in LiteLLM_Config), including
    that its default teams exist, as apply checks them. With --exact-members or --prune the count
    of changes includes the removals and deletions apply would make (the spec is then planned whole).
    Exit 0 or 2.

    Example: dbctl provision validate spec.yaml --proxy-config config.yaml
    """
    import os

    from litellm_dbctl.provision import planner

    settings = RunSettings(True, "dbctl", False, None, None, 0.0, timezone, budget_reset_time,
                           proxy_config=proxy_config, managed=True, exact_members=exact_members, prune=prune)
    # Users are read and planned a chunk at a time (a 50 MB spec in bounded memory); tests make the
    # chunks tiny to show that the answer does not depend on them.
    chunk = int(os.environ.get("DBCTL_TEST_VALIDATE_CHUNK") or planner.CHUNK)
    with paused_gc():
        if exact_members or prune:  # removals depend on the whole spec's members: planned at once
            spec = load_spec(ctx, file)
            with common.connect(ctx, read_only=True) as conn:
                plan = planner.make_plan(conn, spec, options(settings), target=common.target(ctx))
            checked = planner.Checked(len(plan.items), plan.summary().changed)
        else:
            spec = load_spec(ctx, file, chunk=chunk)
            with common.connect(ctx, read_only=True) as conn:
                checked = planner.check(conn, spec, options(settings), chunk=chunk, target=common.target(ctx))
    if common.settings(ctx).output == "json":
        common.dump_json({"valid": True, "objects": checked.objects, "changed": checked.changed})
    else:
        common.line(ctx, f"{spec.source}: valid ({checked.objects} objects, {checked.changed} would change)")
