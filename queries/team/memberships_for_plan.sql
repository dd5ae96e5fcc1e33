-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- LiteLLM_TeamMembership rows of these users in these teams (member budgets: budget_row/read_for_plan).
SELECT user_id, team_id, budget_id, xmin::text AS xmin
FROM "LiteLLM_TeamMembership"
WHERE team_id = ANY(%(team_ids)s::text[]) AND user_id = ANY(%(user_ids)s::text[])
