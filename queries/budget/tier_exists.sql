-- requires: 20250326162113_baseline
-- mode: read
-- returns: value
-- Whether a budget tier (LiteLLM_BudgetTable row) exists: --end-user-budget must name one.
SELECT EXISTS (SELECT 1 FROM "LiteLLM_BudgetTable" WHERE budget_id = %(budget_id)s)
