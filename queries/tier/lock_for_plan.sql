-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Budget tiers a plan changes, locked in sorted key order (as LiteLLM's spend flush locks them, so the
-- two never deadlock), with `seen` exactly as tier/read_for_plan computes it.
SELECT budget_id AS id,
       md5(ROW(budget_id, max_budget, soft_budget, max_parallel_requests, tpm_limit, rpm_limit, model_max_budget,
                budget_duration, budget_reset_at)::text) AS seen
FROM "LiteLLM_BudgetTable"
WHERE budget_id = ANY(%(ids)s::text[])
ORDER BY budget_id COLLATE "C"
FOR NO KEY UPDATE
