-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Move the budget tiers budget/due_budgets locked to the next boundary of their duration
-- (`durations` -> `next_reset_at`), found again by the same predicate: their locks are held, so
-- their budget_reset_at is still the one the plan read and no other run has moved their window.
-- Returns the tiers moved: only the linked rows of those are then reset (budget/reset_tier_members).
UPDATE "LiteLLM_BudgetTable" AS t
SET budget_reset_at = b.next_reset_at
FROM unnest(%(durations)s::text[], %(next_reset_at)s::timestamp[]) AS b(duration, next_reset_at)
WHERE t.budget_duration = b.duration
  AND (t.budget_reset_at IS NULL OR t.budget_reset_at < %(now)s)
RETURNING t.budget_id AS id
