-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Remove keys (after key/archive_many copied them); their JWT mappings go with them (ON DELETE CASCADE).
DELETE FROM "LiteLLM_VerificationToken" WHERE token = ANY(%(tokens)s::text[])
