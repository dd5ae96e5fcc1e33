-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Lock the budget rows about to change in sorted key order; xmin for the staleness check.
SELECT budget_id AS id, xmin::text AS xmin
FROM "LiteLLM_BudgetTable"
WHERE budget_id = ANY(%(ids)s::text[])
ORDER BY budget_id COLLATE "C"
FOR NO KEY UPDATE
