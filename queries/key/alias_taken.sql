-- requires: 20250326162113_baseline
-- mode: read
-- returns: value
-- Whether a key already has this alias: LiteLLM's uniqueness check (exact, case-sensitive; no
-- database constraint backs it).
SELECT EXISTS (SELECT 1 FROM "LiteLLM_VerificationToken" WHERE key_alias = %(alias)s)
