-- requires: 20260205144610_add_soft_budget_to_team_table
-- mode: write
-- returns: rowcount
-- Create teams as /team/new writes them: members_with_roles a JSON array of
-- {user_id, user_email, role}, legacy admins/members empty, blocked false, spend 0.
INSERT INTO "LiteLLM_TeamTable" (
    team_id, team_alias, organization_id, admins, members, members_with_roles, metadata, max_budget, soft_budget,
    models, tpm_limit, rpm_limit, max_parallel_requests, budget_duration, budget_reset_at, blocked, spend,
    created_at, updated_at)
SELECT r.team_id, r.team_alias, r.organization_id, ARRAY[]::text[], ARRAY[]::text[],
       coalesce(r.members_with_roles, '[]'::jsonb), coalesce(r.metadata, '{}'::jsonb), r.max_budget, r.soft_budget,
       coalesce(r.models, ARRAY[]::text[]), r.tpm_limit, r.rpm_limit, r.max_parallel_requests, r.budget_duration,
       r.budget_reset_at, coalesce(r.blocked, false), 0.0, %(now)s::timestamp, %(now)s::timestamp
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    team_id text, team_alias text, organization_id text, members_with_roles jsonb, metadata jsonb,
    max_budget double precision, soft_budget double precision, models text[], tpm_limit bigint, rpm_limit bigint,
    max_parallel_requests integer, budget_duration text, budget_reset_at timestamp(3), blocked boolean)
ON CONFLICT DO NOTHING
