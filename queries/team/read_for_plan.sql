-- requires: 20260205144610_add_soft_budget_to_team_table
-- mode: read
-- returns: rows
-- Teams a spec may name (by team_id or team_alias), with the default member budget that
-- /team/new stores as metadata.team_member_budget_id.
SELECT t.team_id, t.team_alias, t.organization_id, t.max_budget, t.soft_budget, t.budget_duration,
       t.budget_reset_at, t.models, t.tpm_limit, t.rpm_limit, t.max_parallel_requests, t.blocked, t.metadata,
       t.members_with_roles, t.xmin::text AS xmin,
       mb.budget_id AS member_budget_id, mb.max_budget AS member_max_budget,
       mb.budget_duration AS member_budget_duration, mb.budget_reset_at AS member_budget_reset_at,
       mb.tpm_limit AS member_tpm_limit, mb.rpm_limit AS member_rpm_limit, mb.xmin::text AS member_budget_xmin
FROM "LiteLLM_TeamTable" AS t
LEFT JOIN "LiteLLM_BudgetTable" AS mb ON mb.budget_id = t.metadata ->> 'team_member_budget_id'
WHERE t.team_id = ANY(%(ids)s::text[]) OR t.team_alias = ANY(%(aliases)s::text[])
