-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Budget rows a plan may change (an organization's budget, a team's default member budget, members'
-- budgets), by id, with xmin for the staleness check.
SELECT budget_id, max_budget, soft_budget, tpm_limit, rpm_limit, budget_duration, budget_reset_at, xmin::text AS xmin
FROM "LiteLLM_BudgetTable"
WHERE budget_id = ANY(%(ids)s::text[])
