-- requires: 20260205144610_add_soft_budget_to_team_table
-- mode: write
-- returns: none
-- Create teams as /team/new writes them, by COPY: members_with_roles a JSON array of
-- {user_id, user_email, role}, legacy admins/members empty, blocked false, spend 0.
COPY "LiteLLM_TeamTable" (
    team_id, team_alias, organization_id, admins, members, members_with_roles, metadata, max_budget, soft_budget,
    models, tpm_limit, rpm_limit, max_parallel_requests, budget_duration, budget_reset_at, blocked,
    team_member_permissions, spend, created_at, updated_at)
FROM STDIN
