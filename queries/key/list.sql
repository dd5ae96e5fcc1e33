-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Keys with their owner, spend, budget, expiry and blocked state, optionally for one user, team or
-- alias containing text (case-insensitive), as team and org list match theirs. The hash is returned for the caller to shorten: never the raw key (not stored).
SELECT token, key_alias, key_name, user_id, team_id, spend, max_budget, budget_duration, budget_reset_at,
       expires, coalesce(blocked, false) AS blocked, models, created_at
FROM "LiteLLM_VerificationToken"
WHERE (%(user_id)s::text IS NULL OR user_id = %(user_id)s)
  AND (%(team_id)s::text IS NULL OR team_id = %(team_id)s)
  AND (%(alias)s::text IS NULL OR strpos(lower(coalesce(key_alias, '')), lower(%(alias)s)) > 0)
ORDER BY created_at DESC NULLS LAST, token
LIMIT %(limit)s
