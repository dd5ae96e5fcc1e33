-- requires: 20260829000000_add_model_access_group_budget_table
-- mode: read
-- returns: rows
-- Those of these budget rows exactly one row points at (budget_row/holders). Read for a membership
-- being removed, that one is the membership itself: the budget row is its own and goes with it.
-- Locked FOR UPDATE until the removal commits: a key or membership a proxy points at it meanwhile
-- waits, then fails on its foreign key, instead of being set to NULL by the delete.
SELECT b.budget_id, b.max_budget
FROM "LiteLLM_BudgetTable" AS b
WHERE b.budget_id = ANY(%(ids)s::text[])
  AND (SELECT count(*) FROM (
      -- include: budget_row/holders
  ) AS h WHERE h.budget_id = b.budget_id) = 1
FOR UPDATE OF b
