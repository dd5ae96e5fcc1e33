-- requires: 20260205144610_add_soft_budget_to_team_table
-- mode: read
-- returns: rows
-- Spend against budget for every entity LiteLLM enforces one on: keys (their own max_budget, else
-- their budget tier's; expired keys left out), users, teams, organizations, end users and tags
-- (their tier's; end users without one use `default_end_user_budget`) and team members (their
-- membership tier's). `next_reset` is the window's budget_reset_at (the key's own or its tier's).
-- Filtered by entity type, team (a user counts as in its `teams`), organization (a key's own or
-- its team's; a team member's team's; a user's `organization_id` or any LiteLLM_OrganizationMembership
-- row, where LiteLLM and `org provision` record members; `org_id` is then that organization), and,
-- unless `everything`, to entities with a max or soft budget; `only` 'over' keeps spend >= max_budget,
-- 'flagged' also spend >= `near` x max_budget or >= soft_budget. Sorted by share of max_budget used
-- (a max_budget of 0 first), then of soft_budget.
WITH rows AS (
    SELECT 'key' AS entity, k.token AS id, COALESCE(k.key_alias, k.key_name) AS name, k.team_id,
           ARRAY[k.team_id] AS teams, COALESCE(k.organization_id, t.organization_id) AS org_id, k.spend,
           COALESCE(k.max_budget, b.max_budget) AS max_budget, b.soft_budget,
           CASE WHEN k.budget_duration IS NOT NULL THEN k.budget_duration ELSE b.budget_duration END AS budget_duration,
           CASE WHEN k.budget_duration IS NOT NULL THEN k.budget_reset_at ELSE b.budget_reset_at END AS next_reset
    FROM "LiteLLM_VerificationToken" AS k
    LEFT JOIN "LiteLLM_TeamTable" AS t ON t.team_id = k.team_id
    LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = k.budget_id
    WHERE k.expires IS NULL OR k.expires > %(now)s
    UNION ALL
    SELECT 'user', u.user_id, COALESCE(u.user_alias, u.user_email), NULL, u.teams, u.organization_id, u.spend,
           u.max_budget, NULL, u.budget_duration, u.budget_reset_at
    FROM "LiteLLM_UserTable" AS u
    UNION ALL
    SELECT 'team', t.team_id, t.team_alias, t.team_id, ARRAY[t.team_id], t.organization_id, t.spend,
           t.max_budget, t.soft_budget, t.budget_duration, t.budget_reset_at
    FROM "LiteLLM_TeamTable" AS t
    UNION ALL
    SELECT 'org', o.organization_id, o.organization_alias, NULL, NULL, o.organization_id, o.spend,
           b.max_budget, b.soft_budget, b.budget_duration, b.budget_reset_at
    FROM "LiteLLM_OrganizationTable" AS o
    LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = o.budget_id
    UNION ALL
    SELECT 'end_user', e.user_id, e.alias, NULL, NULL, NULL, e.spend,
           b.max_budget, b.soft_budget, b.budget_duration, b.budget_reset_at
    FROM "LiteLLM_EndUserTable" AS e
    LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = COALESCE(e.budget_id, %(default_end_user_budget)s::text)
    UNION ALL
    SELECT 'tag', g.tag_name, NULL, NULL, NULL, NULL, g.spend,
           b.max_budget, b.soft_budget, b.budget_duration, b.budget_reset_at
    FROM "LiteLLM_TagTable" AS g
    LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = g.budget_id
    UNION ALL
    SELECT 'team_member', m.user_id, NULL, m.team_id, ARRAY[m.team_id], t.organization_id, m.spend,
           b.max_budget, b.soft_budget, b.budget_duration, b.budget_reset_at
    FROM "LiteLLM_TeamMembership" AS m
    LEFT JOIN "LiteLLM_TeamTable" AS t ON t.team_id = m.team_id
    LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = m.budget_id
)
SELECT entity, id, name, team_id, COALESCE(%(org)s::text, org_id) AS org_id, spend, max_budget, soft_budget,
       budget_duration, next_reset
FROM rows
WHERE entity = ANY(%(entities)s::text[])
  AND (%(team)s::text IS NULL OR %(team)s::text = ANY(teams))
  AND (%(org)s::text IS NULL OR org_id = %(org)s::text
       OR (entity = 'user' AND id IN (SELECT om.user_id FROM "LiteLLM_OrganizationMembership" AS om
                                      WHERE om.organization_id = %(org)s::text)))
  AND (%(everything)s OR max_budget IS NOT NULL OR soft_budget IS NOT NULL)
  AND (%(only)s = 'all'
       OR (%(only)s = 'over' AND spend >= max_budget)
       OR (%(only)s = 'flagged' AND (spend >= max_budget * %(near)s OR spend >= soft_budget)))
ORDER BY CASE WHEN max_budget = 0 THEN 'Infinity'::float8 ELSE spend / max_budget END DESC NULLS LAST,
         spend / NULLIF(soft_budget, 0) DESC NULLS LAST, spend DESC, entity, id, team_id
LIMIT %(limit)s
