-- requires: 20260401000000_add_budget_limits
-- mode: read
-- returns: rows
-- The teams that carry budget_limits windows (a JSON list of {budget_duration, max_budget,
-- reset_at}, litellm-database.md §2.3, §3.3). Python picks the windows whose reset_at has passed;
-- budget/set_limit_windows writes the moved reset_at values back, guarded by this value.
SELECT team_id AS id, team_alias AS name, budget_limits
FROM "LiteLLM_TeamTable"
WHERE jsonb_typeof(budget_limits) = 'array'
ORDER BY team_id
