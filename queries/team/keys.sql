-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- The keys of these teams, locked in token order: /team/delete deletes every one (archived first).
SELECT token, key_alias, key_name, user_id, team_id, organization_id, blocked, spend
FROM "LiteLLM_VerificationToken" WHERE team_id = ANY(%(ids)s::text[])
ORDER BY token FOR UPDATE
