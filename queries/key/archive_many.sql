-- requires: 20260916000000_add_key_total_spend
-- mode: write
-- returns: rowcount
-- What /key/delete and /key/regenerate keep of a key before it goes (persist_deleted_verification_tokens):
-- the whole row in LiteLLM_DeletedVerificationToken, with when and by whom; deleted_by_api_key is the
-- caller's key hash, which dbctl has none of (NULL). key/archive is the same for older schemas.
INSERT INTO "LiteLLM_DeletedVerificationToken" (
    id, token, key_name, key_alias, soft_budget_cooldown, spend, total_spend, expires, models, aliases, config,
    user_id, team_id, agent_id, project_id, permissions, max_parallel_requests, metadata, blocked, tpm_limit,
    rpm_limit, tpd_limit, max_budget, budget_duration, budget_reset_at, allowed_cache_controls, allowed_routes,
    key_type, policies, access_group_ids, model_spend, model_max_budget, budget_fallbacks, router_settings,
    budget_id, organization_id, object_permission_id, created_at, created_by, updated_at, updated_by,
    settings_updated_at, last_active, rotation_count, auto_rotate, rotation_interval, last_rotation_at,
    key_rotation_at, deleted_at, deleted_by, deleted_by_api_key, litellm_changed_by)
SELECT gen_random_uuid()::text, token, key_name, key_alias, soft_budget_cooldown, spend, total_spend, expires,
       models, aliases, config, user_id, team_id, agent_id, project_id, permissions, max_parallel_requests,
       metadata, blocked, tpm_limit, rpm_limit, tpd_limit, max_budget, budget_duration, budget_reset_at,
       allowed_cache_controls, allowed_routes, key_type, policies, access_group_ids, model_spend,
       model_max_budget, budget_fallbacks, router_settings, budget_id, organization_id, object_permission_id,
       created_at, created_by, updated_at, updated_by, settings_updated_at, last_active, rotation_count,
       auto_rotate, rotation_interval, last_rotation_at, key_rotation_at, %(now)s::timestamp, %(actor)s, NULL,
       %(actor)s
FROM "LiteLLM_VerificationToken"
WHERE token = ANY(%(tokens)s::text[])
