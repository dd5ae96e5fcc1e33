-- requires: 20260218231534_add_last_active_to_key_table
-- mode: read
-- returns: rows
-- One batch of keys `key prune` deletes, in token order from after %(after)s: expired before
-- %(expired_before)s, or not used since %(unused_since)s (last_active before it; a key never used counts
-- from its creation). The caller locks them (FOR NO KEY UPDATE): a key a proxy's transaction holds is
-- waited for, bounded by --lock-timeout.
SELECT token, key_alias, key_name, user_id, team_id, expires, last_active, created_at
FROM "LiteLLM_VerificationToken"
WHERE token COLLATE "C" > %(after)s
  AND ((%(expired_before)s::timestamp IS NOT NULL AND expires < %(expired_before)s::timestamp)
    OR (%(unused_since)s::timestamp IS NOT NULL
        AND coalesce(last_active, created_at, '-infinity'::timestamp) < %(unused_since)s::timestamp))
ORDER BY token COLLATE "C"
LIMIT %(batch)s
