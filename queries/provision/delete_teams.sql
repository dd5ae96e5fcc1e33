-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- /team/delete: the team rows (after archive_teams and strip_teams).
DELETE FROM "LiteLLM_TeamTable" WHERE team_id = ANY(%(ids)s::text[])
