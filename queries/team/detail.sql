-- requires: 20260205144610_add_soft_budget_to_team_table
-- mode: read
-- returns: row
-- One team as dbctl shows it, with its default member budget.
SELECT t.team_id, t.team_alias, t.organization_id, t.spend, t.max_budget, t.soft_budget, t.budget_duration,
       t.budget_reset_at, t.models, t.tpm_limit, t.rpm_limit, t.max_parallel_requests, t.blocked, t.metadata,
       t.created_at, t.updated_at,
       mb.max_budget AS member_max_budget, mb.budget_duration AS member_budget_duration,
       mb.tpm_limit AS member_tpm_limit, mb.rpm_limit AS member_rpm_limit
FROM "LiteLLM_TeamTable" AS t
LEFT JOIN "LiteLLM_BudgetTable" AS mb ON mb.budget_id = t.metadata ->> 'team_member_budget_id'
WHERE t.team_id = %(team_id)s
