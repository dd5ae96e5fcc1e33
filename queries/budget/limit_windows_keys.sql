-- requires: 20260401000000_add_budget_limits
-- mode: read
-- returns: rows
-- The keys that carry budget_limits windows (a JSON list of {budget_duration, max_budget,
-- reset_at}, litellm-database.md §2.3, §3.3). Python picks the windows whose reset_at has passed;
-- budget/set_limit_windows writes the moved reset_at values back, guarded by this value.
SELECT token AS id, COALESCE(key_alias, key_name) AS name, budget_limits
FROM "LiteLLM_VerificationToken"
WHERE jsonb_typeof(budget_limits) = 'array'
  AND (expires IS NULL OR expires > %(now)s)
ORDER BY token
