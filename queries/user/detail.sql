-- requires: 20250326162113_baseline
-- mode: read
-- returns: row
-- One user's row as dbctl shows it (no password).
SELECT user_id, user_email, user_alias, user_role, sso_user_id, organization_id, teams, models, spend, max_budget,
       budget_duration, budget_reset_at, tpm_limit, rpm_limit, max_parallel_requests, metadata, created_at, updated_at
FROM "LiteLLM_UserTable" WHERE user_id = %(user_id)s
