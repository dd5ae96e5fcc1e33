-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Create users as /user/new writes them (spend 0, teams and models default to empty arrays,
-- metadata {}); rows are a JSON array. A row that appeared meanwhile is skipped (the caller
-- compares the count and retries).
INSERT INTO "LiteLLM_UserTable" (
    user_id, user_email, sso_user_id, user_alias, user_role, max_budget, budget_duration, budget_reset_at,
    models, tpm_limit, rpm_limit, max_parallel_requests, metadata, teams, spend, created_at, updated_at)
SELECT r.user_id, r.user_email, r.sso_user_id, r.user_alias, r.user_role, r.max_budget, r.budget_duration,
       r.budget_reset_at, coalesce(r.models, ARRAY[]::text[]), r.tpm_limit, r.rpm_limit, r.max_parallel_requests,
       coalesce(r.metadata, '{}'::jsonb), coalesce(r.teams, ARRAY[]::text[]), 0.0, %(now)s::timestamp, %(now)s::timestamp
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    user_id text, user_email text, sso_user_id text, user_alias text, user_role text, max_budget double precision,
    budget_duration text, budget_reset_at timestamp(3), models text[], tpm_limit bigint, rpm_limit bigint,
    max_parallel_requests integer, metadata jsonb, teams text[])
ON CONFLICT DO NOTHING
