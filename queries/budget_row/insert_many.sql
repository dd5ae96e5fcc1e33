-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- LiteLLM_BudgetTable rows (an organization's budget, a team's default member budget, a member's
-- budget in a team) with created_by = updated_by = the actor, as LiteLLM writes the caller.
INSERT INTO "LiteLLM_BudgetTable" (
    budget_id, max_budget, soft_budget, tpm_limit, rpm_limit, budget_duration, budget_reset_at,
    created_by, updated_by, created_at, updated_at)
SELECT r.budget_id, r.max_budget, r.soft_budget, r.tpm_limit, r.rpm_limit, r.budget_duration, r.budget_reset_at,
       %(actor)s, %(actor)s, %(now)s::timestamp, %(now)s::timestamp
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    budget_id text, max_budget double precision, soft_budget double precision, tpm_limit bigint, rpm_limit bigint,
    budget_duration text, budget_reset_at timestamp(3))
ON CONFLICT DO NOTHING
