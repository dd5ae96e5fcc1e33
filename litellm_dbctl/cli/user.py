"""`dbctl user`: provision users (flags or a YAML/JSON/CSV file), list and show them."""

from __future__ import annotations

from typing import Optional

import typer

from litellm_dbctl.cli import common, details, provisioning

app = typer.Typer(help="Provision, list and show LiteLLM users.", no_args_is_help=True)

USER_COLUMNS = ["user_id", "user_email", "user_alias", "user_role", "teams", "spend", "max_budget",
                "budget_duration", "budget_reset_at"]
TEAM_COLUMNS = ["team_id", "team_alias", "role", "spend", "max_budget_in_team"]
ORG_COLUMNS = ["organization_id", "organization_alias", "role", "spend"]


@app.command("provision", cls=common.renamed({"--file": "FILE", "-f": "FILE"}))
@provisioning.with_settings(windows=True, batches=True, creates=True)
def provision(
    ctx: typer.Context,
    file: Optional[str] = typer.Argument(None, metavar="[FILE|-]", show_default=False,
                                         help="Users from a YAML or JSON list (or a mapping with `users`), or CSV; "
                                              "- reads stdin."),
    fmt: Optional[str] = typer.Option(None, "--format", metavar="yaml|json|csv",
                                      help="Format of FILE (default: by extension; stdin is YAML/JSON)."),
    user_id: Optional[str] = typer.Option(None, "--user-id", help="The user's id (default for a new user: a uuid)."),
    email: Optional[str] = typer.Option(None, "--email", help="Email; matched case-insensitively."),
    sso_id: Optional[str] = typer.Option(None, "--sso-id", help="The identity provider's id (sso_user_id)."),
    alias: Optional[str] = typer.Option(None, "--alias", help="Display name (user_alias)."),
    role: Optional[str] = typer.Option(None, "--role", help="proxy_admin, proxy_admin_viewer, internal_user, "
                                                            "internal_user_viewer, ..."),
    max_budget: Optional[float] = typer.Option(None, "--max-budget", min=0, help="Budget in USD."),
    budget_duration: Optional[str] = typer.Option(None, "--budget-duration", metavar="DURATION",
                                                  help="Budget window: 30s, 1h, 1d, 7d, 1mo, daily, ..."),
    models: Optional[list[str]] = typer.Option(None, "--models", metavar="M1,M2", help="Models the user may use."),
    team: Optional[list[str]] = typer.Option(None, "--team", metavar="TEAM[:admin|user]",
                                             help="Team membership (id or alias); repeatable."),
    org: Optional[list[str]] = typer.Option(None, "--org", metavar="ORG[:ROLE]",
                                            help="Organization membership (id or alias); repeatable."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Create or update users. A user is found by user_id, else sso_user_id, else email
    (case-insensitive); created when absent, otherwise only the fields given are updated. Teams and
    organizations are joined everywhere LiteLLM records membership.

    Example: dbctl user provision --email ada@example.com --role internal_user --team research:admin
    """
    from litellm_dbctl.common.errors import InvalidInput
    from litellm_dbctl.provision import specs

    provisioning.check_limits(max_budget=max_budget)
    flags = {"user_id": user_id, "user_email": email, "sso_user_id": sso_id, "user_alias": alias, "user_role": role,
             "max_budget": max_budget, "budget_duration": budget_duration,
             "models": provisioning.split_list(models) if models else None, "teams": list(team) if team else None,
             "organizations": list(org) if org else None}
    given = {k: v for k, v in flags.items() if v is not None}
    if file is not None:
        if given:
            raise InvalidInput("give either FILE or user flags, not both")
        with provisioning.paused_gc():
            spec = specs.load_users(file, fmt=fmt, defer=True)
    elif not given:
        raise InvalidInput("nothing to provision: give FILE, or --user-id/--email/--sso-id and fields")
    else:
        spec = provisioning.from_flags(ctx, "users", given)
    with provisioning.paused_gc():
        provisioning.execute(ctx, spec, settings)


@app.command("list")
def list_users(
    ctx: typer.Context,
    team: Optional[str] = typer.Option(None, "--team", help="Only members of this team (id or alias)."),
    org: Optional[str] = typer.Option(None, "--org", help="Only members of this organization (id or alias)."),
    email: Optional[str] = typer.Option(None, "--email", help="Only emails containing this (case-insensitive)."),
    role: Optional[str] = typer.Option(None, "--role", help="Only users with this user_role (proxy_admin, "
                                                            "internal_user, ...)."),
    limit: int = typer.Option(1000, "--limit", "-n", min=1, help="At most this many users."),
) -> None:
    """Users with their teams, spend and budget.

    Example: dbctl user list --team research --json
    """
    from litellm_dbctl.provision import accounts, spec_fields, specs

    specs.check_role(role, spec_fields.USER_ROLES)
    with common.connect(ctx, read_only=True) as conn:
        rows = accounts.users(conn, team=team, org=org, email=email, role=role, limit=limit)
    common.emit(ctx, common.warn_if_cut(ctx, rows, limit, "users"), USER_COLUMNS)


@app.command("show")
def show(ctx: typer.Context, user: str = typer.Argument(..., metavar="USER", help="user_id, sso_user_id or email.")) -> None:
    """One user: fields, budget and spend, teams (role, member budget and spend), organizations, keys.
    CSV: the user, teams, organizations and keys, each a table with its header, blank-line separated.

    Example: dbctl user show ada@example.com
    """
    from litellm_dbctl.provision import accounts

    with common.connect(ctx, read_only=True) as conn:
        detail = accounts.user(conn, user)
    details.render(ctx, detail.user, [
        details.Section("teams", detail.teams, TEAM_COLUMNS, TEAM_COLUMNS),
        details.Section("organizations", detail.organizations, ORG_COLUMNS, ORG_COLUMNS),
        details.Section("keys", detail.keys, details.KEY_COLUMNS, ["token", "key_alias", "key_name", "team_id", "spend",
                                                          "max_budget", "expires", "blocked"]),
    ], detail)


@app.command("delete")
@provisioning.with_settings()
def delete(
    ctx: typer.Context,
    user: str = typer.Argument(..., metavar="USER", help="user_id, sso_user_id or email."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Delete a user as /user/delete does: its keys (each kept in LiteLLM_DeletedVerificationToken),
    every team membership (roster, UserTable.teams, LiteLLM_TeamMembership), its organization
    memberships, the invitation links naming it, then the row. Spend logs stay. One transaction.

    Example: dbctl user delete ada@example.com --dry-run
    """
    provisioning.retire(ctx, "user delete", user, settings)


@app.command("offboard")
@provisioning.with_settings()
def offboard(
    ctx: typer.Context,
    user: str = typer.Argument(..., metavar="USER", help="user_id, sso_user_id or email."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Take a user out of everything but keep it: block every key of the user (as /key/block), and
    remove every team membership (roster, UserTable.teams, LiteLLM_TeamMembership) and organization
    membership. The user row, its keys and its spend history stay. A second run changes nothing.

    Example: dbctl user offboard ada@example.com --actor hr-sync
    """
    provisioning.retire(ctx, "user offboard", user, settings)
