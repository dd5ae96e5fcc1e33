-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- /key/block on each of these keys that is not blocked yet (a repeat writes nothing).
UPDATE "LiteLLM_VerificationToken"
SET blocked = true, updated_by = %(actor)s, updated_at = %(now)s::timestamp
WHERE token = ANY(%(tokens)s::text[]) AND blocked IS DISTINCT FROM true
