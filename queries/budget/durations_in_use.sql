-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Every distinct budget_duration on keys, users, teams and budget tiers: counter repair computes
-- each one's length once and hands the lengths to the drift statements.
SELECT budget_duration AS duration FROM "LiteLLM_VerificationToken" WHERE budget_duration IS NOT NULL
UNION SELECT budget_duration FROM "LiteLLM_UserTable" WHERE budget_duration IS NOT NULL
UNION SELECT budget_duration FROM "LiteLLM_TeamTable" WHERE budget_duration IS NOT NULL
UNION SELECT budget_duration FROM "LiteLLM_BudgetTable" WHERE budget_duration IS NOT NULL
