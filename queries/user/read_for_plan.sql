-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Users a spec may name, in one read: by user_id, by sso_user_id, or by email compared
-- case-insensitively (LiteLLM's lookup; served by the lower(user_email) index where it exists).
-- `seen` is the md5 of the columns a plan compares (never spend, which proxies increment): apply
-- locks the rows and re-reads it with user/lock_for_plan; a different value means the plan went stale.
SELECT user_id, user_email, sso_user_id, user_alias, user_role, max_budget, budget_duration, budget_reset_at,
       models, tpm_limit, rpm_limit, max_parallel_requests, metadata, teams,
       md5(ROW(user_id, user_email, sso_user_id, user_alias, user_role, max_budget, budget_duration,
                budget_reset_at, models, tpm_limit, rpm_limit, max_parallel_requests, metadata,
                teams)::text) AS seen
FROM "LiteLLM_UserTable"
WHERE user_id = ANY(%(ids)s::text[])
   OR sso_user_id = ANY(%(sso_ids)s::text[])
   OR lower(user_email) = ANY(%(emails)s::text[])
