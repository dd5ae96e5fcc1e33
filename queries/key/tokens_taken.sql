-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Keys already holding one of these tokens (SHA-256 of a chosen raw key): a custom key whose value
-- exists could only fail on the primary key, so planning says which key has it instead.
SELECT token, key_alias
FROM "LiteLLM_VerificationToken"
WHERE token = ANY(%(tokens)s::text[])
