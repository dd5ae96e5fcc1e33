-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- The keys whose budget window is due, by LiteLLM's rule (litellm-database.md §3.2): a duration,
-- not expired, budget_reset_at in the past. Also rows with a duration but no budget_reset_at, which
-- LiteLLM never selects: budget sync gives them one. Read (with `lock` unless a dry run) and reported;
-- budget/reset_keys then resets the same selection. `reset_us`: budget_reset_at in
-- microseconds since the epoch.
SELECT token AS id, COALESCE(key_alias, key_name) AS name, spend, max_budget, budget_duration,
       (extract(epoch FROM budget_reset_at) * 1000000)::bigint AS reset_us
FROM "LiteLLM_VerificationToken"
WHERE budget_duration IS NOT NULL
  AND (expires IS NULL OR expires > %(now)s)
  AND (budget_reset_at IS NULL OR budget_reset_at < %(now)s)
ORDER BY token
