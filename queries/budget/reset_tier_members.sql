-- requires: 20260829000000_add_model_access_group_budget_table
-- mode: write
-- returns: rows
-- Apply the planned cascade of budget tiers whose window just moved (`tiers`: what
-- budget/reset_budgets returned). Each row's spend drops by the decrement planned from the spend
-- read (increments landing meanwhile survive) and only while it still holds the planned budget_id.
-- Team memberships first lift total_spend to spend (LiteLLM's repair before it zeroes).
WITH d AS (
    SELECT * FROM unnest(%(entities)s::text[], %(ids)s::text[], %(team_ids)s::text[], %(tiers)s::text[],
                         %(budget_ids)s::text[], %(decrements)s::float8[])
        AS d(entity, id, team_id, tier, budget_id, decrement)
    WHERE d.tier = ANY(%(reset_tiers)s::text[])
),
end_users AS (
    UPDATE "LiteLLM_EndUserTable" AS eu SET spend = eu.spend - d.decrement
    FROM d WHERE d.entity = 'end_user' AND eu.user_id = d.id AND eu.budget_id IS NOT DISTINCT FROM d.budget_id
    RETURNING 'end_user'::text AS entity, eu.user_id AS id, NULL::text AS team_id
),
members AS (
    UPDATE "LiteLLM_TeamMembership" AS tm
    SET total_spend = GREATEST(tm.total_spend, tm.spend), spend = tm.spend - d.decrement
    FROM d WHERE d.entity = 'team_member' AND tm.user_id = d.id AND tm.team_id = d.team_id
        AND tm.budget_id IS NOT DISTINCT FROM d.budget_id
    RETURNING 'team_member'::text, tm.user_id, tm.team_id
),
keys AS (
    UPDATE "LiteLLM_VerificationToken" AS vt SET spend = vt.spend - d.decrement
    FROM d WHERE d.entity = 'key' AND vt.token = d.id AND vt.budget_id IS NOT DISTINCT FROM d.budget_id
        AND vt.budget_duration IS NULL
    RETURNING 'key'::text, vt.token, NULL::text
),
orgs AS (
    UPDATE "LiteLLM_OrganizationTable" AS ot SET spend = ot.spend - d.decrement
    FROM d WHERE d.entity = 'org' AND ot.organization_id = d.id AND ot.budget_id IS NOT DISTINCT FROM d.budget_id
    RETURNING 'org'::text, ot.organization_id, NULL::text
),
tags AS (
    UPDATE "LiteLLM_TagTable" AS tg SET spend = tg.spend - d.decrement
    FROM d WHERE d.entity = 'tag' AND tg.tag_name = d.id AND tg.budget_id IS NOT DISTINCT FROM d.budget_id
    RETURNING 'tag'::text, tg.tag_name, NULL::text
),
projects AS (
    UPDATE "LiteLLM_ProjectTable" AS pj SET spend = pj.spend - d.decrement
    FROM d WHERE d.entity = 'project' AND pj.project_id = d.id AND pj.budget_id IS NOT DISTINCT FROM d.budget_id
    RETURNING 'project'::text, pj.project_id, NULL::text
),
groups AS (
    UPDATE "LiteLLM_ModelAccessGroupBudgetTable" AS ag SET spend = ag.spend - d.decrement
    FROM d WHERE d.entity = 'model_access_group' AND ag.access_group_name = d.id
        AND ag.budget_id IS NOT DISTINCT FROM d.budget_id
    RETURNING 'model_access_group'::text, ag.access_group_name, NULL::text
)
SELECT * FROM end_users UNION ALL SELECT * FROM members UNION ALL SELECT * FROM keys
UNION ALL SELECT * FROM orgs UNION ALL SELECT * FROM tags UNION ALL SELECT * FROM projects
UNION ALL SELECT * FROM groups
