-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Write the planned values of the columns dbctl manages on locked, unchanged user rows; spend and
-- every other column are left to the proxy.
UPDATE "LiteLLM_UserTable" AS u
SET user_email = r.user_email, sso_user_id = r.sso_user_id, user_alias = r.user_alias, user_role = r.user_role,
    max_budget = r.max_budget, budget_duration = r.budget_duration, budget_reset_at = r.budget_reset_at,
    models = r.models, tpm_limit = r.tpm_limit, rpm_limit = r.rpm_limit,
    max_parallel_requests = r.max_parallel_requests, metadata = r.metadata, teams = r.teams,
    updated_at = %(now)s::timestamp
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    user_id text, user_email text, sso_user_id text, user_alias text, user_role text, max_budget double precision,
    budget_duration text, budget_reset_at timestamp(3), models text[], tpm_limit bigint, rpm_limit bigint,
    max_parallel_requests integer, metadata jsonb, teams text[])
WHERE u.user_id = r.user_id
