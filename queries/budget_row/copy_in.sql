-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- LiteLLM_BudgetTable rows (an organization's budget, a team's default member budget, a member's
-- budget in a team) with created_by = updated_by = the actor, by COPY.
COPY "LiteLLM_BudgetTable" (
    budget_id, max_budget, soft_budget, tpm_limit, rpm_limit, budget_duration, budget_reset_at,
    created_by, updated_by, created_at, updated_at)
FROM STDIN
