-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Remove one key (after key/archive copied it).
DELETE FROM "LiteLLM_VerificationToken" WHERE token = %(token)s
