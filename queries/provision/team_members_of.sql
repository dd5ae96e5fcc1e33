-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- --exact-members: every LiteLLM_TeamMembership row of the spec's teams, listed or not.
SELECT user_id, team_id, budget_id
FROM "LiteLLM_TeamMembership"
WHERE team_id = ANY(%(team_ids)s::text[])
