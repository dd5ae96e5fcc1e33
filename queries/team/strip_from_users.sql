-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- /team/delete's sweep of UserTable.teams: every user naming one of these teams, locked in user_id order
-- (COLLATE "C", as LiteLLM locks user rows), loses them from the array, the rest kept in order.
-- Returns the users changed (their cached objects go).
UPDATE "LiteLLM_UserTable" AS u
SET teams = ARRAY(SELECT k.team_id FROM unnest(u.teams) WITH ORDINALITY AS k(team_id, position)
                  WHERE k.team_id <> ALL(%(ids)s::text[]) ORDER BY k.position),
    updated_at = %(now)s::timestamp
WHERE u.user_id IN (SELECT user_id FROM "LiteLLM_UserTable" WHERE teams && %(ids)s::text[]
                    ORDER BY user_id COLLATE "C" FOR UPDATE)
RETURNING u.user_id
