-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Budget rows a plan may change (an organization's budget, a team's default member budget, members'
-- budgets), by id.
-- `seen` is the md5 of the columns a plan compares (never spend, which proxies increment): apply
-- locks the rows and re-reads it with budget_row/lock_for_plan; a different value means the plan went stale.
SELECT budget_id, max_budget, soft_budget, tpm_limit, rpm_limit, budget_duration, budget_reset_at,
       md5(ROW(budget_id, max_budget, soft_budget, tpm_limit, rpm_limit, budget_duration,
                budget_reset_at)::text) AS seen
FROM "LiteLLM_BudgetTable"
WHERE budget_id = ANY(%(ids)s::text[])
