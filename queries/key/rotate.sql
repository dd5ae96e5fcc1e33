-- requires: 20260810000000_add_verificationtoken_settings_updated_at
-- mode: write
-- returns: rowcount
-- /key/regenerate: the same row gets the new key's token (SHA-256 hex) and key_name; every setting,
-- budget and spend stays. Rows keyed by the token (LiteLLM_JWTKeyMapping) follow by ON UPDATE CASCADE.
UPDATE "LiteLLM_VerificationToken"
SET token = %(new_token)s, key_name = %(key_name)s, updated_by = %(actor)s, updated_at = %(now)s::timestamp,
    settings_updated_at = %(now)s::timestamp
WHERE token = %(token)s
