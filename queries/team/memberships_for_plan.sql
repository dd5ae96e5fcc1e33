-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- LiteLLM_TeamMembership rows of these users in these teams, with their member budget row.
SELECT m.user_id, m.team_id, m.budget_id, m.xmin::text AS xmin,
       b.max_budget, b.soft_budget, b.tpm_limit, b.rpm_limit, b.budget_duration, b.budget_reset_at,
       b.xmin::text AS budget_xmin
FROM "LiteLLM_TeamMembership" AS m
LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = m.budget_id
WHERE m.team_id = ANY(%(team_ids)s::text[]) AND m.user_id = ANY(%(user_ids)s::text[])
