-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Every distinct (budget_duration, budget_reset_at) pair on keys, users, teams and budget tiers:
-- counter repair computes each pair's window start once and hands them to the drift statements.
SELECT budget_duration AS duration, budget_reset_at AS reset_at
FROM "LiteLLM_VerificationToken" WHERE budget_duration IS NOT NULL AND budget_reset_at IS NOT NULL
UNION SELECT budget_duration, budget_reset_at
FROM "LiteLLM_UserTable" WHERE budget_duration IS NOT NULL AND budget_reset_at IS NOT NULL
UNION SELECT budget_duration, budget_reset_at
FROM "LiteLLM_TeamTable" WHERE budget_duration IS NOT NULL AND budget_reset_at IS NOT NULL
UNION SELECT budget_duration, budget_reset_at
FROM "LiteLLM_BudgetTable" WHERE budget_duration IS NOT NULL AND budget_reset_at IS NOT NULL
