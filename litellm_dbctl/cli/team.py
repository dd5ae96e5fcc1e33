"""`dbctl team`: provision teams and their members, list and show them."""

from __future__ import annotations

from typing import Optional

import typer

from litellm_dbctl.cli import common, details, provisioning

app = typer.Typer(help="Provision teams and their members.", no_args_is_help=True)

TEAM_COLUMNS = ["team_id", "team_alias", "organization_id", "members", "spend", "max_budget", "budget_duration",
                "budget_reset_at", "blocked"]
MEMBER_BUDGET_COLUMNS = ["budget_id", "max_budget", "budget_duration", "tpm_limit", "rpm_limit"]
MEMBER_COLUMNS = ["user_id", "user_email", "role", "spend", "max_budget_in_team", "budget_id", "in_user_teams",
                  "has_membership_row"]


@app.command("provision", cls=common.renamed({"--member-budget": "--team-member-budget",
                                               "--member-budget-duration": "--team-member-budget-duration"}))
@provisioning.with_settings(windows=True, creates=True)
def provision(
    ctx: typer.Context,
    team_id: Optional[str] = typer.Option(None, "--team-id", help="The team's id (default for a new team: a uuid)."),
    alias: Optional[str] = typer.Option(None, "--alias", help="team_alias; finds the team when --team-id is not given."),
    org: Optional[str] = typer.Option(None, "--org", help="Organization (id or alias)."),
    max_budget: Optional[float] = typer.Option(None, "--max-budget", min=0, help="Team budget in USD."),
    soft_budget: Optional[float] = typer.Option(None, "--soft-budget", min=0, help="Alerting threshold in USD."),
    budget_duration: Optional[str] = typer.Option(None, "--budget-duration", metavar="DURATION",
                                                  help="Budget window: 1d, 7d, 1mo, ..."),
    models: Optional[list[str]] = typer.Option(None, "--models", metavar="M1,M2", help="Models the team may use."),
    tpm_limit: Optional[int] = typer.Option(None, "--tpm-limit", min=0, help="Tokens per minute."),
    rpm_limit: Optional[int] = typer.Option(None, "--rpm-limit", min=0, help="Requests per minute."),
    member: Optional[list[str]] = typer.Option(None, "--member", metavar="USER[:admin|user]",
                                               help="A member (user_id, or email); repeatable."),
    member_budget: Optional[float] = typer.Option(None, "--team-member-budget", min=0,
                                                  help="Default budget of each member (team_member_budget); a "
                                                       "member's own: add-member --max-budget-in-team."),
    member_budget_duration: Optional[str] = typer.Option(None, "--team-member-budget-duration", metavar="DURATION",
                                                         help="Window of the default member budget."),
    add_proxy_admin: Optional[str] = typer.Option(
        None, "--add-proxy-admin", metavar="USER_ID",
        help="When this creates the team, add USER_ID as admin unless --member names it, as /team/new does "
             "with the master key (its user: default_user_id) unless disable_auto_add_proxy_admin_to_teams."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Create or update a team (found by --team-id, else by --alias) and add members: only the fields
    given are written; budget_reset_at follows budget_duration by LiteLLM's rules.

    Example: dbctl team provision --team-id research --max-budget 500 --budget-duration 1mo --member ada@example.com:admin
    """
    from litellm_dbctl.provision import spec_fields

    provisioning.check_limits(max_budget=max_budget, soft_budget=soft_budget, team_member_budget=member_budget,
                              tpm_limit=tpm_limit, rpm_limit=rpm_limit)
    record = {"team_id": team_id, "team_alias": alias, "organization_id": org, "max_budget": max_budget,
              "soft_budget": soft_budget, "budget_duration": budget_duration,
              "models": provisioning.split_list(models) if models else None, "tpm_limit": tpm_limit, "rpm_limit": rpm_limit,
              "team_member_budget": member_budget, "team_member_budget_duration": member_budget_duration,
              "members_with_roles": provisioning.member_entries(member, spec_fields.TEAM_ROLES) or None,
              "add_proxy_admin": add_proxy_admin}
    spec = provisioning.from_flags(ctx, "teams", record)
    provisioning.execute(ctx, spec, settings)


@app.command("add-member")
@provisioning.with_settings(creates=True)
def add_member(
    ctx: typer.Context,
    team: str = typer.Argument(..., help="team_id or team_alias."),
    user: str = typer.Argument(..., help="user_id, or an email (a new user is created when none matches)."),
    role: Optional[str] = typer.Option(None, "--role", help="admin or user (default: user for a new member; "
                                                            "an existing member keeps its role)."),
    max_budget_in_team: Optional[float] = typer.Option(None, "--max-budget-in-team", min=0,
                                                       help="The member's own budget in the team."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Add (or re-role) a member as /team/member_add does: roster entry, UserTable.teams and a
    LiteLLM_TeamMembership row (with a member budget row for --max-budget-in-team).

    Example: dbctl team add-member research ada@example.com --role admin
    """
    from litellm_dbctl.provision import specs

    spec = specs.one_membership("team", team, user, role, max_budget_in_team)
    provisioning.execute(ctx, spec, settings)


@app.command("remove-member")
@provisioning.with_settings()
def remove_member(
    ctx: typer.Context,
    team: str = typer.Argument(..., help="team_id or team_alias."),
    user: str = typer.Argument(..., help="user_id, sso_user_id or email."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Remove a member from everywhere LiteLLM records it: the roster (members_with_roles),
    UserTable.teams, the LiteLLM_TeamMembership row and the member's own budget row
    (--max-budget-in-team) unless something else uses it. A non-member changes nothing (exit 0).

    Example: dbctl team remove-member research ada@example.com
    """
    provisioning.remove(ctx, "team", team, user, settings)


@app.command("list")
def list_teams(
    ctx: typer.Context,
    org: Optional[str] = typer.Option(None, "--org", help="Only teams of this organization (id or alias)."),
    alias: Optional[str] = typer.Option(None, "--alias", help="Only aliases containing this (case-insensitive)."),
    limit: int = typer.Option(1000, "--limit", "-n", min=1, help="At most this many teams."),
) -> None:
    """Teams with member count, spend and budget.

    Example: dbctl team list --org acme
    """
    from litellm_dbctl.provision import accounts

    with common.connect(ctx, read_only=True) as conn:
        rows = accounts.teams(conn, org=org, alias=alias, limit=limit)
    common.emit(ctx, common.warn_if_cut(ctx, rows, limit, "teams"), TEAM_COLUMNS)


@app.command("show")
def show(ctx: typer.Context, team: str = typer.Argument(..., help="team_id or team_alias.")) -> None:
    """One team: fields, budget and spend, default member budget, members (role, member budget and
    spend, and whether all three membership records agree), keys. CSV: the team, its default member
    budget (no row without one), members and keys, each a table with its header, blank-line separated.

    Example: dbctl team show research --json
    """
    from litellm_dbctl.provision import accounts

    with common.connect(ctx, read_only=True) as conn:
        detail = accounts.team(conn, team)
    budget = [detail.member_budget] if detail.member_budget else []
    details.render(ctx, detail.team, [
        details.Section("default member budget", budget, MEMBER_BUDGET_COLUMNS, MEMBER_BUDGET_COLUMNS),
        details.Section("members", detail.members, MEMBER_COLUMNS,
                       [c for c in MEMBER_COLUMNS if c != "budget_id"]),
        details.Section("keys", detail.keys, details.KEY_COLUMNS, ["token", "key_alias", "key_name", "user_id", "spend",
                                                          "max_budget", "expires", "blocked"]),
    ], detail)


@app.command("delete")
@provisioning.with_settings()
def delete(
    ctx: typer.Context,
    team: str = typer.Argument(..., help="team_id or team_alias."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Delete a team as /team/delete does: every key of the team (kept in
    LiteLLM_DeletedVerificationToken), its own BYOK models, the row (kept in LiteLLM_DeletedTeamTable),
    its id in every UserTable.teams, its LiteLLM_TeamMembership rows. Refused (exit 4) while a
    deployment shares PTU capacity with it (model_info.ptu_shares), as LiteLLM refuses. Spend logs stay.

    Example: dbctl team delete research --dry-run
    """
    provisioning.retire(ctx, "team delete", team, settings)
