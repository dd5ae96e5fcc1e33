-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- Create users as /user/new writes them (spend 0, teams and models empty arrays, metadata {}), by
-- COPY: the fastest bulk path. A user created meanwhile makes it fail with a unique violation,
-- and the caller re-plans.
COPY "LiteLLM_UserTable" (
    user_id, user_email, sso_user_id, user_alias, user_role, max_budget, budget_duration, budget_reset_at,
    models, tpm_limit, rpm_limit, max_parallel_requests, metadata, teams, spend, created_at, updated_at)
FROM STDIN
