-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Budget tiers a spec's `budgets` section declares or its keys name by budget_id (LiteLLM_BudgetTable
-- rows, /budget/new's), by id.
-- `seen` is the md5 of the columns a plan compares (never spend): apply locks the rows and re-reads
-- it with tier/lock_for_plan; a different value means the plan went stale.
SELECT budget_id, max_budget, soft_budget, max_parallel_requests, tpm_limit, rpm_limit, model_max_budget,
       budget_duration, budget_reset_at,
       md5(ROW(budget_id, max_budget, soft_budget, max_parallel_requests, tpm_limit, rpm_limit, model_max_budget,
                budget_duration, budget_reset_at)::text) AS seen
FROM "LiteLLM_BudgetTable"
WHERE budget_id = ANY(%(ids)s::text[])
