-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- A user's keys (any team), locked in token order until the transaction ends, for user delete (which
-- deletes them) and user offboard (which blocks them).
SELECT token, key_alias, key_name, user_id, team_id, organization_id, blocked, spend
FROM "LiteLLM_VerificationToken" WHERE user_id = %(user_id)s
ORDER BY token FOR UPDATE
