-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Keys whose budget window is due, by LiteLLM's rule (litellm-database.md §3.2): a budget_duration,
-- not expired, budget_reset_at in the past. Also keys with a duration but no budget_reset_at, which
-- LiteLLM never selects: budget sync gives them one. `reset_us`: budget_reset_at in microseconds
-- since the epoch (cheaper to read than a timestamp). Locked in token order, so the apply that
-- follows never waits on a row it has not locked and cannot deadlock a proxy's sorted spend flush.
SELECT token AS id, COALESCE(key_alias, key_name) AS name, spend, max_budget, budget_duration,
       (extract(epoch FROM budget_reset_at) * 1000000)::bigint AS reset_us
FROM "LiteLLM_VerificationToken"
WHERE budget_duration IS NOT NULL
  AND (expires IS NULL OR expires > %(now)s)
  AND (budget_reset_at IS NULL OR budget_reset_at < %(now)s)
ORDER BY token
FOR NO KEY UPDATE
