-- requires: 20250416185146_add_allowed_routes_litellm_verification_token
-- mode: write
-- returns: rows
-- Keys a plan changes, locked in sorted key order (as LiteLLM's spend flush locks them, so the
-- two never deadlock), with `seen` exactly as key/read_for_plan computes it: a spend increment
-- meanwhile leaves it equal, a change to anything the plan compared does not.
SELECT token AS id,
       md5(ROW(token, key_alias, key_name, user_id, team_id, models, max_budget, budget_duration,
                budget_reset_at, tpm_limit, rpm_limit, max_parallel_requests, metadata, blocked,
                allowed_routes, expires, budget_id)::text) AS seen
FROM "LiteLLM_VerificationToken"
WHERE token = ANY(%(ids)s::text[])
ORDER BY token COLLATE "C"
FOR NO KEY UPDATE
