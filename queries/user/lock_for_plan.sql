-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Users a plan changes, locked in sorted key order (as LiteLLM's spend flush locks them, so the
-- two never deadlock), with `seen` exactly as user/read_for_plan computes it: a spend increment
-- meanwhile leaves it equal, a change to anything the plan compared does not.
SELECT user_id AS id,
       md5(ROW(user_id, user_email, sso_user_id, user_alias, user_role, max_budget, budget_duration,
                budget_reset_at, models, tpm_limit, rpm_limit, max_parallel_requests, metadata,
                teams)::text) AS seen
FROM "LiteLLM_UserTable"
WHERE user_id = ANY(%(ids)s::text[])
ORDER BY user_id COLLATE "C"
FOR NO KEY UPDATE
