-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Write the planned limits of locked, unchanged budget tiers (/budget/update; spend untouched).
UPDATE "LiteLLM_BudgetTable" AS b
SET max_budget = r.max_budget, soft_budget = r.soft_budget, max_parallel_requests = r.max_parallel_requests,
    tpm_limit = r.tpm_limit, rpm_limit = r.rpm_limit, model_max_budget = r.model_max_budget,
    budget_duration = r.budget_duration, budget_reset_at = r.budget_reset_at,
    updated_by = %(actor)s, updated_at = %(now)s::timestamp
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    budget_id text, max_budget double precision, soft_budget double precision, max_parallel_requests integer,
    tpm_limit bigint, rpm_limit bigint, model_max_budget jsonb, budget_duration text, budget_reset_at timestamp(3))
WHERE b.budget_id = r.budget_id
