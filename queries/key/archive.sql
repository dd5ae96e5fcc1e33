-- requires: 20251219110931_add_deleted_keys_and_deleted_teams_tables
-- mode: write
-- returns: rowcount
-- Before /key/delete removes a key, LiteLLM copies it to LiteLLM_DeletedVerificationToken with who
-- deleted it; dbctl does the same.
INSERT INTO "LiteLLM_DeletedVerificationToken" (
    id, token, key_name, key_alias, soft_budget_cooldown, spend, expires, models, aliases, config, user_id, team_id,
    permissions, max_parallel_requests, metadata, blocked, tpm_limit, rpm_limit, max_budget, budget_duration,
    budget_reset_at, allowed_cache_controls, allowed_routes, model_spend, model_max_budget, budget_id,
    organization_id, object_permission_id, created_at, created_by, updated_at, updated_by, rotation_count,
    auto_rotate, rotation_interval, last_rotation_at, key_rotation_at, deleted_at, deleted_by, deleted_by_api_key,
    litellm_changed_by)
SELECT gen_random_uuid()::text, token, key_name, key_alias, soft_budget_cooldown, spend, expires, models, aliases,
       config, user_id, team_id, permissions, max_parallel_requests, metadata, blocked, tpm_limit, rpm_limit,
       max_budget, budget_duration, budget_reset_at, allowed_cache_controls, allowed_routes, model_spend,
       model_max_budget, budget_id, organization_id, object_permission_id, created_at, created_by, updated_at,
       updated_by, rotation_count, auto_rotate, rotation_interval, last_rotation_at, key_rotation_at,
       %(now)s::timestamp, %(actor)s, NULL, %(actor)s
FROM "LiteLLM_VerificationToken"
WHERE token = %(token)s
