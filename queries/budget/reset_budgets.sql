-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Move planned budget tiers (LiteLLM_BudgetTable) to their next budget_reset_at, each guarded by
-- the budget_reset_at it had when planned. Returns the tiers that moved: only their linked rows
-- are then reset (budget/reset_tier_members), so no tier's window is reset twice.
UPDATE "LiteLLM_BudgetTable" AS t
SET budget_reset_at = d.new_reset_at
FROM unnest(%(ids)s::text[], %(old_reset_at)s::timestamp[], %(new_reset_at)s::timestamp[])
    AS d(id, old_reset_at, new_reset_at)
WHERE t.budget_id = d.id
  AND t.budget_reset_at IS NOT DISTINCT FROM d.old_reset_at
RETURNING t.budget_id AS id
