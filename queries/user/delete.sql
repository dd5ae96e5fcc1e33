-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Delete the user row (LiteLLM_VerifiedSubject rows go with it: ON DELETE CASCADE).
DELETE FROM "LiteLLM_UserTable" WHERE user_id = %(user_id)s
