-- requires: 20260829000000_add_model_access_group_budget_table
-- mode: write
-- returns: rowcount
-- Delete these budget rows if nothing points at them any more (budget_row/holders), checked again
-- at delete time: a row another membership, key, team or organization took between the plan's read
-- (budget_row/read_for_removal, which locks it) and this statement stays (the count falls short and
-- the removal is re-planned).
DELETE FROM "LiteLLM_BudgetTable" AS b
USING jsonb_to_recordset(%(rows)s::jsonb) AS r(budget_id text)
WHERE b.budget_id = r.budget_id
  AND NOT EXISTS (SELECT FROM (
      -- include: budget_row/holders
  ) AS h WHERE h.budget_id = b.budget_id)
