-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Users named by user_id in a budgets file, with the limits budget sync manages, locked in order.
SELECT user_id AS id, user_id AS ident, COALESCE(user_alias, user_email) AS name, max_budget,
       NULL::float8 AS soft_budget, budget_duration, budget_reset_at, tpm_limit, rpm_limit
FROM "LiteLLM_UserTable"
WHERE user_id = ANY(%(idents)s::text[])
ORDER BY user_id
FOR NO KEY UPDATE
