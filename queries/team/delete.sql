-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Delete the team rows (projects of the team keep their rows: team_id is set NULL by the foreign key).
DELETE FROM "LiteLLM_TeamTable" WHERE team_id = ANY(%(ids)s::text[])
