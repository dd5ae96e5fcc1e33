-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- /key/block and /key/unblock: set blocked on one key (only when it differs, so a repeat writes nothing).
UPDATE "LiteLLM_VerificationToken"
SET blocked = %(blocked)s, updated_by = %(actor)s, updated_at = %(now)s::timestamp
WHERE token = %(token)s AND blocked IS DISTINCT FROM %(blocked)s
