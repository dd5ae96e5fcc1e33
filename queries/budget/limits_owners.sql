-- requires: 20260829000000_add_model_access_group_budget_table
-- mode: write
-- returns: rows
-- Organizations (by id or alias), end users (by id) and tags (by name) named in a budgets file:
-- their limits live on a budget tier (budget_id). `users_of_tier` counts every row linked to that
-- tier (orgs, end users, tags, keys, team and org memberships, projects, model access groups), so
-- a tier shared with others is never changed through one of them. Owner rows are locked.
WITH owners AS (
    SELECT 'org' AS entity, o.organization_id AS id,
           CASE WHEN o.organization_id = ANY(%(org_ids)s::text[]) THEN o.organization_id
                ELSE o.organization_alias END AS ident,
           o.organization_alias AS name, o.budget_id
    FROM "LiteLLM_OrganizationTable" AS o
    WHERE o.organization_id = ANY(%(org_ids)s::text[]) OR o.organization_alias = ANY(%(org_aliases)s::text[])
    FOR NO KEY UPDATE
), end_users AS (
    SELECT 'end_user' AS entity, e.user_id AS id, e.user_id AS ident, e.alias AS name, e.budget_id
    FROM "LiteLLM_EndUserTable" AS e
    WHERE e.user_id = ANY(%(end_user_ids)s::text[])
    FOR NO KEY UPDATE
), tags AS (
    SELECT 'tag' AS entity, g.tag_name AS id, g.tag_name AS ident, NULL::text AS name, g.budget_id
    FROM "LiteLLM_TagTable" AS g
    WHERE g.tag_name = ANY(%(tag_names)s::text[])
    FOR NO KEY UPDATE
), found AS (
    SELECT * FROM owners UNION ALL SELECT * FROM end_users UNION ALL SELECT * FROM tags
), links AS (
    SELECT budget_id FROM "LiteLLM_OrganizationTable" WHERE budget_id IN (SELECT budget_id FROM found)
    UNION ALL SELECT budget_id FROM "LiteLLM_EndUserTable" WHERE budget_id IN (SELECT budget_id FROM found)
    UNION ALL SELECT budget_id FROM "LiteLLM_TagTable" WHERE budget_id IN (SELECT budget_id FROM found)
    UNION ALL SELECT budget_id FROM "LiteLLM_VerificationToken" WHERE budget_id IN (SELECT budget_id FROM found)
    UNION ALL SELECT budget_id FROM "LiteLLM_TeamMembership" WHERE budget_id IN (SELECT budget_id FROM found)
    UNION ALL SELECT budget_id FROM "LiteLLM_OrganizationMembership" WHERE budget_id IN (SELECT budget_id FROM found)
    UNION ALL SELECT budget_id FROM "LiteLLM_ProjectTable" WHERE budget_id IN (SELECT budget_id FROM found)
    UNION ALL SELECT budget_id FROM "LiteLLM_ModelAccessGroupBudgetTable" WHERE budget_id IN (SELECT budget_id FROM found)
)
SELECT f.entity, f.id, f.ident, f.name, f.budget_id,
       (SELECT count(*) FROM links AS l WHERE l.budget_id = f.budget_id) AS users_of_tier
FROM found AS f
ORDER BY f.entity, f.id
