-- requires: 20250416185146_add_allowed_routes_litellm_verification_token
-- mode: write
-- returns: rowcount
-- Write the planned settings of locked, unchanged keys (never the token: a spec never rotates a key).
UPDATE "LiteLLM_VerificationToken" AS k
SET user_id = r.user_id, team_id = r.team_id, models = r.models, max_budget = r.max_budget,
    budget_duration = r.budget_duration, budget_reset_at = r.budget_reset_at, tpm_limit = r.tpm_limit,
    rpm_limit = r.rpm_limit, max_parallel_requests = r.max_parallel_requests, metadata = r.metadata,
    blocked = r.blocked, allowed_routes = r.allowed_routes, budget_id = r.budget_id, updated_by = %(actor)s, updated_at = %(now)s::timestamp
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    token text, user_id text, team_id text, models text[], max_budget double precision, budget_duration text,
    budget_reset_at timestamp(3), tpm_limit bigint, rpm_limit bigint, max_parallel_requests integer,
    metadata jsonb, blocked boolean, allowed_routes text[], budget_id text)
WHERE k.token = r.token
