-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Budget tiers (LiteLLM_BudgetTable rows) by budget_id, with the limits budget sync manages,
-- locked in order: the tiers a budgets file names and the tiers holding an org's, end user's or
-- tag's limits.
SELECT budget_id AS id, budget_id AS ident, NULL::text AS name, max_budget, soft_budget,
       budget_duration, budget_reset_at, tpm_limit, rpm_limit
FROM "LiteLLM_BudgetTable"
WHERE budget_id = ANY(%(idents)s::text[])
ORDER BY budget_id
FOR NO KEY UPDATE
