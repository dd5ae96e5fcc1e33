-- requires: 20260829000000_add_model_access_group_budget_table
-- mode: read
-- returns: rows
-- Rows whose spend LiteLLM's budget-tier cascade zeroes when their tier's window resets
-- (litellm-database.md §3.3): end users of the tier (and end users without a tier when the tier
-- is the proxy's default end-user budget, litellm_settings.max_end_user_budget_id), team
-- memberships, keys without a budget_duration of their own, organizations, tags, projects and
-- model access groups linked to it. Only rows with spend > 0 change. `tier` is the tier the row
-- is reset under; `budget_id` what the row holds (NULL for default-tier end users), the apply's guard.
WITH tiers AS (SELECT unnest(%(tiers)s::text[]) AS tier),
rows AS (
    SELECT 'end_user' AS entity, e.user_id AS id, NULL::text AS team_id, e.alias AS name,
           COALESCE(e.budget_id, %(default_end_user_budget)s::text) AS tier, e.budget_id, e.spend
    FROM "LiteLLM_EndUserTable" AS e
    WHERE e.spend > 0
      AND (e.budget_id IN (SELECT tier FROM tiers)
           OR (e.budget_id IS NULL AND %(default_end_user_budget)s::text IN (SELECT tier FROM tiers)))
    UNION ALL
    SELECT 'team_member', m.user_id, m.team_id, NULL, m.budget_id, m.budget_id, m.spend
    FROM "LiteLLM_TeamMembership" AS m
    WHERE m.spend > 0 AND m.budget_id IN (SELECT tier FROM tiers)
    UNION ALL
    SELECT 'key', k.token, NULL, COALESCE(k.key_alias, k.key_name), k.budget_id, k.budget_id, k.spend
    FROM "LiteLLM_VerificationToken" AS k
    WHERE k.spend > 0 AND k.budget_duration IS NULL AND k.budget_id IN (SELECT tier FROM tiers)
    UNION ALL
    SELECT 'org', o.organization_id, NULL, o.organization_alias, o.budget_id, o.budget_id, o.spend
    FROM "LiteLLM_OrganizationTable" AS o
    WHERE o.spend > 0 AND o.budget_id IN (SELECT tier FROM tiers)
    UNION ALL
    SELECT 'tag', g.tag_name, NULL, NULL, g.budget_id, g.budget_id, g.spend
    FROM "LiteLLM_TagTable" AS g
    WHERE g.spend > 0 AND g.budget_id IN (SELECT tier FROM tiers)
    UNION ALL
    SELECT 'project', p.project_id, NULL, p.project_alias, p.budget_id, p.budget_id, p.spend
    FROM "LiteLLM_ProjectTable" AS p
    WHERE p.spend > 0 AND p.budget_id IN (SELECT tier FROM tiers)
    UNION ALL
    SELECT 'model_access_group', a.access_group_name, NULL, NULL, a.budget_id, a.budget_id, a.spend
    FROM "LiteLLM_ModelAccessGroupBudgetTable" AS a
    WHERE a.spend > 0 AND a.budget_id IN (SELECT tier FROM tiers)
)
SELECT entity, id, team_id, name, tier, budget_id, spend FROM rows
ORDER BY entity, id, team_id
