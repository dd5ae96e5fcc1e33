-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- /team/delete: every LiteLLM_TeamMembership row of these teams; returns the members (their cached
-- membership objects go).
DELETE FROM "LiteLLM_TeamMembership" WHERE team_id = ANY(%(ids)s::text[]) RETURNING user_id, team_id
