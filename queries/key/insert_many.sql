-- requires: 20260713230852_add_key_type_to_litellm_verification_token
-- mode: write
-- returns: rowcount
-- Create keys as /key/generate stores them: token = SHA-256 hex of the raw key, key_name
-- "sk-...abcd", models [], spend 0, key_type 'default' (GenerateKeyRequest's default, which
-- handle_key_type stores); JSON columns (aliases, config, permissions, metadata, model_max_budget, ...)
-- keep their {} defaults. An existing token is left untouched.
INSERT INTO "LiteLLM_VerificationToken" (
    token, key_name, key_alias, user_id, team_id, models, max_budget, budget_duration, budget_reset_at, expires,
    tpm_limit, rpm_limit, max_parallel_requests, metadata, blocked, allowed_routes, key_type, budget_id, spend,
    created_by, updated_by, created_at, updated_at)
SELECT r.token, r.key_name, r.key_alias, r.user_id, r.team_id, coalesce(r.models, ARRAY[]::text[]), r.max_budget,
       r.budget_duration, r.budget_reset_at, r.expires, r.tpm_limit, r.rpm_limit, r.max_parallel_requests,
       coalesce(r.metadata, '{}'::jsonb), r.blocked, coalesce(r.allowed_routes, ARRAY[]::text[]), r.key_type, r.budget_id, 0.0,
       %(actor)s, %(actor)s, %(now)s::timestamp, %(now)s::timestamp
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    token text, key_name text, key_alias text, user_id text, team_id text, models text[], max_budget double precision,
    budget_duration text, budget_reset_at timestamp(3), expires timestamp(3), tpm_limit bigint, rpm_limit bigint,
    max_parallel_requests integer, metadata jsonb, blocked boolean, allowed_routes text[], key_type text, budget_id text)
ON CONFLICT (token) DO NOTHING
