-- requires: 20260913000000_add_tpd_limit
-- mode: write
-- returns: rowcount
-- What /team/delete keeps of a team (_persist_deleted_team_records): the row in LiteLLM_DeletedTeamTable
-- with when and by whom; deleted_by_api_key is the caller's key hash, which dbctl has none of (NULL).
-- team/archive_deleted_basic is the same for schemas before the table's later columns.
INSERT INTO "LiteLLM_DeletedTeamTable" (
    id, team_id, team_alias, organization_id, object_permission_id, admins, members, members_with_roles,
    metadata, max_budget, spend, models, max_parallel_requests, tpm_limit, rpm_limit, budget_duration,
    budget_reset_at, blocked, model_spend, model_max_budget, team_member_permissions, model_id, created_at,
    updated_at, router_settings, policies, allow_team_guardrail_config, soft_budget, access_group_ids, tpd_limit,
    deleted_at, deleted_by, deleted_by_api_key, litellm_changed_by)
SELECT gen_random_uuid()::text, team_id, team_alias, organization_id, object_permission_id, admins, members,
       members_with_roles, metadata, max_budget, spend, models, max_parallel_requests, tpm_limit, rpm_limit,
       budget_duration, budget_reset_at, blocked, model_spend, model_max_budget, team_member_permissions, model_id,
       created_at, updated_at, router_settings, policies, allow_team_guardrail_config, soft_budget,
       access_group_ids, tpd_limit, %(now)s::timestamp, %(actor)s, NULL, %(actor)s
FROM "LiteLLM_TeamTable"
WHERE team_id = ANY(%(ids)s::text[])
