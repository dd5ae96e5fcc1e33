-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Budget rows a plan changes, locked in sorted key order (as LiteLLM's spend flush locks them, so the
-- two never deadlock), with `seen` exactly as budget_row/read_for_plan computes it: a spend increment
-- meanwhile leaves it equal, a change to anything the plan compared does not.
SELECT budget_id AS id,
       md5(ROW(budget_id, max_budget, soft_budget, tpm_limit, rpm_limit, budget_duration,
                budget_reset_at)::text) AS seen
FROM "LiteLLM_BudgetTable"
WHERE budget_id = ANY(%(ids)s::text[])
ORDER BY budget_id COLLATE "C"
FOR NO KEY UPDATE
