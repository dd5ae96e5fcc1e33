-- requires: 20250416185146_add_allowed_routes_litellm_verification_token
-- mode: read
-- returns: rows
-- Keys a spec names by key_alias (exact, case-sensitive: LiteLLM's uniqueness rule).
-- `seen` is the md5 of the columns a plan compares (never spend, which proxies increment): apply
-- locks the rows and re-reads it with key/lock_for_plan; a different value means the plan went stale.
SELECT token, key_alias, key_name, user_id, team_id, models, max_budget, budget_duration, budget_reset_at,
       tpm_limit, rpm_limit, max_parallel_requests, metadata, blocked, allowed_routes, expires, budget_id,
       md5(ROW(token, key_alias, key_name, user_id, team_id, models, max_budget, budget_duration,
                budget_reset_at, tpm_limit, rpm_limit, max_parallel_requests, metadata, blocked,
                allowed_routes, expires, budget_id)::text) AS seen
FROM "LiteLLM_VerificationToken"
WHERE key_alias = ANY(%(aliases)s::text[])
