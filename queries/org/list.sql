-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Organizations with member and team counts, spend and their budget row's limits.
SELECT o.organization_id, o.organization_alias,
       (SELECT count(*) FROM "LiteLLM_OrganizationMembership" AS m WHERE m.organization_id = o.organization_id)
           AS members,
       (SELECT count(*) FROM "LiteLLM_TeamTable" AS t WHERE t.organization_id = o.organization_id) AS teams,
       o.spend, b.max_budget, b.soft_budget, b.budget_duration, b.budget_reset_at, o.models, o.created_at
FROM "LiteLLM_OrganizationTable" AS o
LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = o.budget_id
WHERE %(alias)s::text IS NULL OR strpos(lower(o.organization_alias), lower(%(alias)s)) > 0
ORDER BY o.organization_alias, o.organization_id
LIMIT %(limit)s
