-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- A user's teams, from UserTable.teams and LiteLLM_TeamMembership together: role from the team's
-- roster, member spend and member budget from the membership row.
SELECT t.team_id, t.team_alias,
       (SELECT e ->> 'role' FROM jsonb_array_elements(
            CASE WHEN jsonb_typeof(t.members_with_roles) = 'array' THEN t.members_with_roles ELSE '[]'::jsonb END) AS e
        WHERE e ->> 'user_id' = %(user_id)s LIMIT 1) AS role,
       m.spend, b.max_budget AS max_budget_in_team
FROM "LiteLLM_TeamTable" AS t
LEFT JOIN "LiteLLM_TeamMembership" AS m ON m.team_id = t.team_id AND m.user_id = %(user_id)s
LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = m.budget_id
WHERE t.team_id IN (
    SELECT unnest(teams) FROM "LiteLLM_UserTable" WHERE user_id = %(user_id)s
    UNION SELECT team_id FROM "LiteLLM_TeamMembership" WHERE user_id = %(user_id)s)
ORDER BY t.team_alias NULLS LAST, t.team_id
