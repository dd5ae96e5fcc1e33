-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Whole team rows, locked in team_id order until the delete commits: archived to
-- LiteLLM_DeletedTeamTable and written as the audit row's before_value, as /team/delete does.
SELECT * FROM "LiteLLM_TeamTable" WHERE team_id = ANY(%(ids)s::text[]) ORDER BY team_id FOR UPDATE
