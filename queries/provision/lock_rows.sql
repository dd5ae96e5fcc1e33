-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- identifiers: table, id
-- variant: LiteLLM_BudgetTable, budget_id
-- variant: LiteLLM_OrganizationTable, organization_id
-- variant: LiteLLM_TeamTable, team_id
-- variant: LiteLLM_UserTable, user_id
-- variant: LiteLLM_VerificationToken, token
-- Lock the rows about to change, in sorted key order (as LiteLLM's spend flush does), and return
-- their xmin so apply can tell whether anything changed since the plan was read.
SELECT {id} AS id, xmin::text AS xmin
FROM {table}
WHERE {id} = ANY(%(ids)s::text[])
ORDER BY {id} COLLATE "C"
FOR NO KEY UPDATE
