-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- --exact-members: the users whose `teams` names one of the spec's teams (a membership's second place).
SELECT user_id
FROM "LiteLLM_UserTable"
WHERE teams && %(team_ids)s::text[]
