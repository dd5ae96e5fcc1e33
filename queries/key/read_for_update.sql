-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- The fields `key update` may change, of one key (locked with FOR NO KEY UPDATE by the caller, so a
-- proxy's spend flush, which writes other columns, goes on; a concurrent update waits).
SELECT token, key_alias, key_name, user_id, team_id, models, max_budget, budget_duration, budget_reset_at,
       tpm_limit, rpm_limit, metadata, expires, blocked
FROM "LiteLLM_VerificationToken"
WHERE token = %(token)s
