-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Every team and organization a user belongs to, from every place LiteLLM keeps the membership: a team
-- named in UserTable.teams, holding a LiteLLM_TeamMembership row, or listing the user_id in its roster
-- (members_with_roles); an organization holding a LiteLLM_OrganizationMembership row. A team id the
-- user row names that no longer exists is listed too (exists false), so it can be dropped from `teams`.
SELECT 'team' AS kind, g.team_id AS group_id,
       EXISTS (SELECT FROM "LiteLLM_TeamTable" AS t WHERE t.team_id = g.team_id) AS exists
FROM (
    SELECT unnest(teams) AS team_id FROM "LiteLLM_UserTable" WHERE user_id = %(user_id)s
    UNION SELECT team_id FROM "LiteLLM_TeamMembership" WHERE user_id = %(user_id)s
    UNION SELECT team_id FROM "LiteLLM_TeamTable"
          WHERE jsonb_typeof(members_with_roles) = 'array'
            AND members_with_roles @> jsonb_build_array(jsonb_build_object('user_id', %(user_id)s::text))
) AS g
UNION ALL
SELECT 'org', organization_id, true FROM "LiteLLM_OrganizationMembership" WHERE user_id = %(user_id)s
ORDER BY 1, 2
