-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- A team's members as LiteLLM keeps them: the members_with_roles roster, with each member's
-- LiteLLM_TeamMembership spend and member budget, and whether the user lists the team.
SELECT e ->> 'user_id' AS user_id, coalesce(e ->> 'user_email', u.user_email) AS user_email, e ->> 'role' AS role,
       m.spend, b.max_budget AS max_budget_in_team, m.budget_id,
       coalesce(t.team_id = ANY(u.teams), false) AS in_user_teams, m.user_id IS NOT NULL AS has_membership_row
FROM "LiteLLM_TeamTable" AS t
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(t.members_with_roles) = 'array' THEN t.members_with_roles ELSE '[]'::jsonb END) AS e
LEFT JOIN "LiteLLM_UserTable" AS u ON u.user_id = e ->> 'user_id'
LEFT JOIN "LiteLLM_TeamMembership" AS m ON m.team_id = t.team_id AND m.user_id = e ->> 'user_id'
LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = m.budget_id
WHERE t.team_id = %(team_id)s
ORDER BY e ->> 'role', coalesce(e ->> 'user_email', e ->> 'user_id')
