-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Organizations a spec may name (by organization_id or organization_alias) with their budget row,
-- which holds an organization's limits (every organization has one).
SELECT o.organization_id, o.organization_alias, o.models, o.metadata, o.budget_id, o.xmin::text AS xmin,
       b.max_budget, b.soft_budget, b.budget_duration, b.budget_reset_at, b.tpm_limit, b.rpm_limit,
       b.xmin::text AS budget_xmin
FROM "LiteLLM_OrganizationTable" AS o
LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = o.budget_id
WHERE o.organization_id = ANY(%(ids)s::text[]) OR o.organization_alias = ANY(%(aliases)s::text[])
