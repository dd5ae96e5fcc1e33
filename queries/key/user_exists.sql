-- requires: 20250326162113_baseline
-- mode: read
-- returns: value
-- Whether a user_id exists (a key's owner must).
SELECT EXISTS (SELECT 1 FROM "LiteLLM_UserTable" WHERE user_id = %(user_id)s)
