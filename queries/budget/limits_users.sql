-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Users a budgets file may name (%(refs)s): by user_id, sso_user_id or email (%(emails)s, lower-cased,
-- compared case-insensitively), with the limits budget sync manages, locked in order. The caller picks
-- the one each reference names, as every command does (common.identities).
SELECT user_id AS id, user_id, sso_user_id, user_email, COALESCE(user_alias, user_email) AS name, max_budget,
       NULL::float8 AS soft_budget, budget_duration, budget_reset_at, tpm_limit, rpm_limit
FROM "LiteLLM_UserTable"
WHERE user_id = ANY(%(refs)s::text[]) OR sso_user_id = ANY(%(refs)s::text[])
   OR lower(user_email) = ANY(%(emails)s::text[])
ORDER BY user_id
FOR NO KEY UPDATE
