-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- /team/member_delete's LiteLLM_TeamMembership part: remove these (user_id, team_id) rows.
DELETE FROM "LiteLLM_TeamMembership" AS m
USING jsonb_to_recordset(%(rows)s::jsonb) AS r(user_id text, team_id text)
WHERE m.user_id = r.user_id AND m.team_id = r.team_id
