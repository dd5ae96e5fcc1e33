-- requires: 20260205144610_add_soft_budget_to_team_table
-- mode: read
-- returns: rows
-- Teams a spec may name, by team_id or team_alias. A default member budget is the budget row named
-- by metadata.team_member_budget_id (read with budget_row/read_for_plan).
-- `seen` is the md5 of the columns a plan compares (never spend, which proxies increment): apply
-- locks the rows and re-reads it with team/lock_for_plan; a different value means the plan went stale.
SELECT team_id, team_alias, organization_id, max_budget, soft_budget, budget_duration, budget_reset_at, models,
       tpm_limit, rpm_limit, max_parallel_requests, blocked, team_member_permissions, metadata, members_with_roles,
       md5(ROW(team_id, team_alias, organization_id, max_budget, soft_budget, budget_duration,
                budget_reset_at, models, tpm_limit, rpm_limit, max_parallel_requests, blocked,
                team_member_permissions, metadata, members_with_roles)::text) AS seen
FROM "LiteLLM_TeamTable"
WHERE team_id = ANY(%(ids)s::text[]) OR team_alias = ANY(%(aliases)s::text[])
