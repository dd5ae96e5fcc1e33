-- requires: 20260205144610_add_soft_budget_to_team_table
-- mode: write
-- returns: rowcount
-- Write the planned values of the columns dbctl manages (fields and the members_with_roles roster)
-- on locked, unchanged team rows; spend is left to the proxy.
UPDATE "LiteLLM_TeamTable" AS t
SET team_alias = r.team_alias, organization_id = r.organization_id, members_with_roles = r.members_with_roles,
    metadata = r.metadata, max_budget = r.max_budget, soft_budget = r.soft_budget, models = r.models,
    tpm_limit = r.tpm_limit, rpm_limit = r.rpm_limit, max_parallel_requests = r.max_parallel_requests,
    budget_duration = r.budget_duration, budget_reset_at = r.budget_reset_at, blocked = r.blocked,
    team_member_permissions = r.team_member_permissions, updated_at = %(now)s::timestamp
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    team_id text, team_alias text, organization_id text, members_with_roles jsonb, metadata jsonb,
    max_budget double precision, soft_budget double precision, models text[], tpm_limit bigint, rpm_limit bigint,
    max_parallel_requests integer, budget_duration text, budget_reset_at timestamp(3), blocked boolean,
    team_member_permissions text[])
WHERE t.team_id = r.team_id
