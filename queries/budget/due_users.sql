-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Users whose budget window is due (LiteLLM: a budget_duration and budget_reset_at NULL or past,
-- litellm-database.md §3.2). `reset_us`: budget_reset_at in microseconds since the epoch
-- (cheaper to read than a timestamp). Locked in user_id order for the apply that follows.
SELECT user_id AS id, COALESCE(user_alias, user_email) AS name, spend, max_budget, budget_duration,
       (extract(epoch FROM budget_reset_at) * 1000000)::bigint AS reset_us
FROM "LiteLLM_UserTable"
WHERE budget_duration IS NOT NULL
  AND (budget_reset_at IS NULL OR budget_reset_at < %(now)s)
ORDER BY user_id
FOR NO KEY UPDATE
