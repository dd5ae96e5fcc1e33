-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Budget tiers (LiteLLM_BudgetTable) whose window is due (a budget_duration and budget_reset_at
-- NULL or past, litellm-database.md §3.2). A tier has no spend of its own: its reset cascades to
-- the rows linked to it. `reset_us`: budget_reset_at in microseconds since the epoch. Read with
-- `lock` (in budget_id order) before the tiers are moved.
SELECT budget_id AS id, NULL::text AS name, 0::float8 AS spend, max_budget, budget_duration,
       (extract(epoch FROM budget_reset_at) * 1000000)::bigint AS reset_us
FROM "LiteLLM_BudgetTable"
WHERE budget_duration IS NOT NULL
  AND (budget_reset_at IS NULL OR budget_reset_at < %(now)s)
ORDER BY budget_id
