"""`dbctl org`: provision organizations and their members, list and show them."""

from __future__ import annotations

from typing import Optional

import typer

from litellm_dbctl.cli import common, details, provisioning

app = typer.Typer(help="Provision organizations and their members.", no_args_is_help=True)

ORG_COLUMNS = ["organization_id", "organization_alias", "members", "teams", "spend", "max_budget", "budget_duration",
               "budget_reset_at"]
MEMBER_COLUMNS = ["user_id", "user_email", "role", "spend", "created_at"]
TEAM_COLUMNS = ["team_id", "team_alias", "spend", "max_budget"]


@app.command("provision")
@provisioning.with_settings(windows=True, creates=True)
def provision(
    ctx: typer.Context,
    org_id: Optional[str] = typer.Option(None, "--org-id", help="organization_id (default for a new one: a uuid)."),
    alias: Optional[str] = typer.Option(None, "--alias",
                                        help="organization_alias (required to create); finds it without --org-id."),
    max_budget: Optional[float] = typer.Option(None, "--max-budget", min=0, help="Budget in USD."),
    soft_budget: Optional[float] = typer.Option(None, "--soft-budget", min=0, help="Alerting threshold in USD."),
    budget_duration: Optional[str] = typer.Option(None, "--budget-duration", metavar="DURATION",
                                                  help="Budget window: 1d, 7d, 1mo, ..."),
    models: Optional[list[str]] = typer.Option(None, "--models", metavar="M1,M2", help="Models the organization may use."),
    tpm_limit: Optional[int] = typer.Option(None, "--tpm-limit", min=0, help="Tokens per minute."),
    rpm_limit: Optional[int] = typer.Option(None, "--rpm-limit", min=0, help="Requests per minute."),
    member: Optional[list[str]] = typer.Option(None, "--member", metavar="USER[:ROLE]",
                                               help="A member (user_id or email), role org_admin, internal_user "
                                                    "(default) or internal_user_viewer; repeatable."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Create or update an organization (found by --org-id, else --alias) with its budget row, and add
    members (LiteLLM_OrganizationMembership). Only the fields given are written.

    Example: dbctl org provision --alias acme --max-budget 1000 --budget-duration 1mo --member ada@example.com:org_admin
    """
    from litellm_dbctl.provision import spec_fields

    provisioning.check_limits(max_budget=max_budget, soft_budget=soft_budget, tpm_limit=tpm_limit,
                              rpm_limit=rpm_limit)
    record = {"organization_id": org_id, "organization_alias": alias, "max_budget": max_budget,
              "soft_budget": soft_budget, "budget_duration": budget_duration,
              "models": provisioning.split_list(models) if models else None, "tpm_limit": tpm_limit, "rpm_limit": rpm_limit,
              "members_with_roles": provisioning.member_entries(member, spec_fields.ORG_ROLES) or None}
    spec = provisioning.from_flags(ctx, "organizations", record)
    provisioning.execute(ctx, spec, settings)


@app.command("add-member")
@provisioning.with_settings(creates=True)
def add_member(
    ctx: typer.Context,
    org: str = typer.Argument(..., help="organization_id or organization_alias."),
    user: str = typer.Argument(..., help="user_id, or an email (a new user is created when none matches)."),
    role: Optional[str] = typer.Option(None, "--role", help="org_admin, internal_user or internal_user_viewer "
                                                            "(default: internal_user for a new member)."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Add (or re-role) an organization member as /organization/member_add does.

    Example: dbctl org add-member acme ada@example.com --role org_admin
    """
    from litellm_dbctl.provision import specs

    spec = specs.one_membership("org", org, user, role)
    provisioning.execute(ctx, spec, settings)


@app.command("remove-member")
@provisioning.with_settings()
def remove_member(
    ctx: typer.Context,
    org: str = typer.Argument(..., help="organization_id or organization_alias."),
    user: str = typer.Argument(..., help="user_id, sso_user_id or email."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Remove a member: its LiteLLM_OrganizationMembership row, and the member's own budget row unless
    something else uses it. A non-member changes nothing.

    Example: dbctl org remove-member acme ada@example.com
    """
    provisioning.remove(ctx, "org", org, user, settings)


@app.command("list")
def list_orgs(
    ctx: typer.Context,
    alias: Optional[str] = typer.Option(None, "--alias", help="Only aliases containing this (case-insensitive)."),
    limit: int = typer.Option(1000, "--limit", "-n", min=1, help="At most this many organizations."),
) -> None:
    """Organizations with member and team counts, spend and budget.

    Example: dbctl org list --output csv
    """
    from litellm_dbctl.provision import accounts

    with common.connect(ctx, read_only=True) as conn:
        rows = accounts.orgs(conn, alias=alias, limit=limit)
    common.emit(ctx, common.warn_if_cut(ctx, rows, limit, "organizations"), ORG_COLUMNS)


@app.command("show")
def show(ctx: typer.Context, org: str = typer.Argument(..., help="organization_id or organization_alias.")) -> None:
    """One organization: fields, budget and spend, members with roles, teams. CSV: the organization,
    members and teams, each a table with its header, blank-line separated.

    Example: dbctl org show acme
    """
    from litellm_dbctl.provision import accounts

    with common.connect(ctx, read_only=True) as conn:
        detail = accounts.org(conn, org)
    details.render(ctx, detail.organization, [
        details.Section("members", detail.members, MEMBER_COLUMNS, ["user_id", "user_email", "role", "spend"]),
        details.Section("teams", detail.teams, TEAM_COLUMNS, TEAM_COLUMNS),
    ], detail)


@app.command("delete")
@provisioning.with_settings()
def delete(
    ctx: typer.Context,
    org: str = typer.Argument(..., help="organization_id or organization_alias."),
    *,
    settings: provisioning.RunSettings,
) -> None:
    """Delete an organization as /organization/delete does: its teams (each as `team delete`), its
    LiteLLM_OrganizationMembership rows, its keys (kept in LiteLLM_DeletedVerificationToken), the row;
    users' organization_id is cleared. Refused (exit 4) while a deployment shares PTU capacity with one
    of its teams. Spend logs stay.

    Example: dbctl org delete acme --dry-run
    """
    provisioning.retire(ctx, "org delete", org, settings)
