-- requires: 20260829000000_add_model_access_group_budget_table
-- mode: write
-- returns: rows
-- Organizations and end users (by id or alias: the caller picks the one each reference names, as
-- every command does) and tags (by name) a budgets file may name:
-- their limits live on a budget tier (budget_id). `users_of_tier` counts every row linked to that
-- tier (orgs, end users, tags, keys, team and org memberships, projects, model access groups), so
-- a tier shared with others is never changed through one of them. Owner rows are locked.
WITH owners AS (
    SELECT 'org' AS entity, o.organization_id AS id, o.organization_alias AS name, o.budget_id
    FROM "LiteLLM_OrganizationTable" AS o
    WHERE o.organization_id = ANY(%(org_refs)s::text[]) OR o.organization_alias = ANY(%(org_refs)s::text[])
    FOR NO KEY UPDATE
), end_users AS (
    SELECT 'end_user' AS entity, e.user_id AS id, e.alias AS name, e.budget_id
    FROM "LiteLLM_EndUserTable" AS e
    WHERE e.user_id = ANY(%(end_user_refs)s::text[]) OR e.alias = ANY(%(end_user_refs)s::text[])
    FOR NO KEY UPDATE
), tags AS (
    SELECT 'tag' AS entity, g.tag_name AS id, NULL::text AS name, g.budget_id
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
SELECT f.entity, f.id, f.name, f.budget_id,
       (SELECT count(*) FROM links AS l WHERE l.budget_id = f.budget_id) AS users_of_tier
FROM found AS f
ORDER BY f.entity, f.id
