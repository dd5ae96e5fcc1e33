-- requires: 20260218231534_add_last_active_to_key_table
-- mode: read
-- returns: rows
-- `key list --expired` / `--unused-since`: key/list's rows and filters, with last_active, of keys that
-- expired before %(expired_before)s (now) and/or were not used since %(unused_since)s (last_active before
-- it; a key never used counts from its creation). Never the raw key (not stored).
SELECT token, key_alias, key_name, user_id, team_id, spend, max_budget, budget_duration, budget_reset_at,
       expires, coalesce(blocked, false) AS blocked, models, created_at, last_active
FROM "LiteLLM_VerificationToken"
WHERE (%(user_id)s::text IS NULL OR user_id = %(user_id)s)
  AND (%(team_id)s::text IS NULL OR team_id = %(team_id)s)
  AND (%(alias)s::text IS NULL OR strpos(lower(coalesce(key_alias, '')), lower(%(alias)s)) > 0)
  AND (%(expired_before)s::timestamp IS NULL OR expires < %(expired_before)s::timestamp)
  AND (%(unused_since)s::timestamp IS NULL
       OR coalesce(last_active, created_at, '-infinity'::timestamp) < %(unused_since)s::timestamp)
ORDER BY created_at DESC NULLS LAST, token
LIMIT %(limit)s
