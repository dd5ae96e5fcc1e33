-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Lock the keys about to change in sorted key order; xmin for the staleness check.
SELECT token AS id, xmin::text AS xmin
FROM "LiteLLM_VerificationToken"
WHERE token = ANY(%(ids)s::text[])
ORDER BY token COLLATE "C"
FOR NO KEY UPDATE
