-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Create budget tiers as /budget/new does: the limits given, budget_reset_at the next boundary of
-- budget_duration, created_by = updated_by = the actor. An existing budget_id is left untouched (the
-- count falls short and the plan is made again).
INSERT INTO "LiteLLM_BudgetTable" (
    budget_id, max_budget, soft_budget, max_parallel_requests, tpm_limit, rpm_limit, model_max_budget,
    budget_duration, budget_reset_at, created_by, updated_by, created_at, updated_at)
SELECT r.budget_id, r.max_budget, r.soft_budget, r.max_parallel_requests, r.tpm_limit, r.rpm_limit,
       r.model_max_budget, r.budget_duration, r.budget_reset_at, %(actor)s, %(actor)s, %(now)s::timestamp,
       %(now)s::timestamp
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    budget_id text, max_budget double precision, soft_budget double precision, max_parallel_requests integer,
    tpm_limit bigint, rpm_limit bigint, model_max_budget jsonb, budget_duration text, budget_reset_at timestamp(3))
ON CONFLICT (budget_id) DO NOTHING
