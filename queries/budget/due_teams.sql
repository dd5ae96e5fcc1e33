-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- The teams whose budget window is due, by LiteLLM's rule (litellm-database.md §3.2): a
-- budget_duration and budget_reset_at NULL or past. LiteLLM zeroes the spend of a row without a
-- budget_reset_at; budget sync only gives it one. Read (with `lock` unless a dry run) and reported;
-- budget/reset then resets the same selection. `reset_us`: budget_reset_at in
-- microseconds since the epoch.
SELECT team_id AS id, team_alias AS name, spend, max_budget, budget_duration,
       (extract(epoch FROM budget_reset_at) * 1000000)::bigint AS reset_us
FROM "LiteLLM_TeamTable"
WHERE budget_duration IS NOT NULL
  AND (budget_reset_at IS NULL OR budget_reset_at < %(now)s)
ORDER BY team_id
