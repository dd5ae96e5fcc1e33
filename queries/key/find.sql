-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Keys a reference may name: the token (SHA-256 hex, or a prefix of at least 8 characters shown by
-- key list) or the key_alias (exact). A raw key comes hashed (%(token)s), and %(alias)s is then NULL:
-- an alias equal to the raw key is found by its SHA-256 (%(alias_sha256)s), so the key never leaves.
SELECT token, key_alias, key_name, user_id, team_id, blocked, xmin::text AS xmin
FROM "LiteLLM_VerificationToken"
WHERE token = %(token)s OR key_alias = %(alias)s OR (%(prefix)s::text IS NOT NULL AND starts_with(token, %(prefix)s))
   OR (%(alias_sha256)s::text IS NOT NULL AND encode(sha256(convert_to(key_alias, 'UTF8')), 'hex') = %(alias_sha256)s)
ORDER BY token
LIMIT 20
