-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- LiteLLM_TeamMembership rows of these users in these teams (member budgets: budget_row/read_for_plan).
-- `seen` is the md5 of the columns a plan compares (never spend, which proxies increment): apply
-- locks the rows and re-reads it with team/lock_memberships_for_plan; a different value means the plan went stale.
SELECT user_id, team_id, budget_id,
       md5(ROW(user_id, team_id, budget_id)::text) AS seen
FROM "LiteLLM_TeamMembership"
WHERE team_id = ANY(%(team_ids)s::text[]) AND user_id = ANY(%(user_ids)s::text[])
