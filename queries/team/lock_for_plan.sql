-- requires: 20260205144610_add_soft_budget_to_team_table
-- mode: write
-- returns: rows
-- Teams a plan changes, locked in sorted key order (as LiteLLM's spend flush locks them, so the
-- two never deadlock), with `seen` exactly as team/read_for_plan computes it: a spend increment
-- meanwhile leaves it equal, a change to anything the plan compared does not.
SELECT team_id AS id,
       md5(ROW(team_id, team_alias, organization_id, max_budget, soft_budget, budget_duration,
                budget_reset_at, models, tpm_limit, rpm_limit, max_parallel_requests, blocked,
                team_member_permissions, metadata, members_with_roles)::text) AS seen
FROM "LiteLLM_TeamTable"
WHERE team_id = ANY(%(ids)s::text[])
ORDER BY team_id COLLATE "C"
FOR NO KEY UPDATE
