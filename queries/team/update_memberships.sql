-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Point existing memberships at their planned member budget row.
UPDATE "LiteLLM_TeamMembership" AS m
SET budget_id = r.budget_id
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(user_id text, team_id text, budget_id text)
WHERE m.user_id = r.user_id AND m.team_id = r.team_id
