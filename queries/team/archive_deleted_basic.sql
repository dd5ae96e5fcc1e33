-- requires: 20251219110931_add_deleted_keys_and_deleted_teams_tables
-- mode: write
-- returns: rowcount
-- team/archive_deleted for a schema whose LiteLLM_DeletedTeamTable has only its first columns.
INSERT INTO "LiteLLM_DeletedTeamTable" (
    id, team_id, team_alias, organization_id, object_permission_id, admins, members, members_with_roles,
    metadata, max_budget, spend, models, max_parallel_requests, tpm_limit, rpm_limit, budget_duration,
    budget_reset_at, blocked, model_spend, model_max_budget, team_member_permissions, model_id, created_at,
    updated_at, deleted_at, deleted_by, deleted_by_api_key, litellm_changed_by)
SELECT gen_random_uuid()::text, team_id, team_alias, organization_id, object_permission_id, admins, members,
       members_with_roles, metadata, max_budget, spend, models, max_parallel_requests, tpm_limit, rpm_limit,
       budget_duration, budget_reset_at, blocked, model_spend, model_max_budget, team_member_permissions, model_id,
       created_at, updated_at, %(now)s::timestamp, %(actor)s, NULL, %(actor)s
FROM "LiteLLM_TeamTable"
WHERE team_id = ANY(%(ids)s::text[])
