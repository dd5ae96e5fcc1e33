"""Helpers for the provisioning tests: writing specs and fingerprinting every row they touch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TABLES = {
    "LiteLLM_UserTable": "user_id",
    "LiteLLM_TeamTable": "team_id",
    "LiteLLM_TeamMembership": "user_id || '/' || team_id",
    "LiteLLM_OrganizationTable": "organization_id",
    "LiteLLM_OrganizationMembership": "user_id || '/' || organization_id",
    "LiteLLM_BudgetTable": "budget_id",
    "LiteLLM_VerificationToken": "token",
    "LiteLLM_AuditLog": "id",
}

SPEC = """\
organizations:
  - organization_id: org-acme
    organization_alias: acme
    max_budget: 500
    budget_duration: 30d
    members_with_roles:
      - user_id: alice
        role: org_admin
teams:
  - team_id: team-prod
    team_alias: production
    organization_id: acme
    max_budget: 100.0
    budget_duration: 1mo
    models: [gpt-4o]
    team_member_budget: 5
    members_with_roles:
      - user_id: alice
        role: admin
      - user_email: Bob@Example.com
        max_budget_in_team: 7
  - team_id: team-dev
users:
  - user_id: alice
    user_email: alice@example.com
    user_role: proxy_admin
    teams: [team-dev:admin]
  - user_email: carol@example.com
    max_budget: 10
    budget_duration: 1d
    teams: [production]
keys:
  - key_alias: admin-cli
    user_id: alice
    team_id: team-prod
    duration: 30d
"""


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def fingerprint(db: Any) -> dict[str, dict[str, str]]:
    """xmin of every row of every provisioning table: equal before and after means nothing was written."""
    return {table: {r["k"]: r["xmin"] for r in db.query(f'SELECT {key} AS k, xmin::text AS xmin FROM "{table}"')}
            for table, key in TABLES.items()}


def counts(db: Any) -> dict[str, int]:
    return {table: db.value(f'SELECT count(*) FROM "{table}"') for table in TABLES}
