-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Keys a reference may name: the token (SHA-256 hex, or a prefix of at least 8 characters shown by
-- key list) or the key_alias (exact).
SELECT token, key_alias, key_name, user_id, team_id, blocked, xmin::text AS xmin
FROM "LiteLLM_VerificationToken"
WHERE token = %(token)s OR key_alias = %(alias)s OR (%(prefix)s::text IS NOT NULL AND starts_with(token, %(prefix)s))
ORDER BY token
LIMIT 20
