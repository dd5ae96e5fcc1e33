-- requires: 20250326162113_baseline
-- mode: read
-- returns: row
-- One organization as dbctl shows it, with its budget row's limits.
SELECT o.organization_id, o.organization_alias, o.spend, o.models, o.metadata, o.budget_id, b.max_budget,
       b.soft_budget, b.budget_duration, b.budget_reset_at, b.tpm_limit, b.rpm_limit, o.created_at, o.created_by,
       o.updated_at, o.updated_by
FROM "LiteLLM_OrganizationTable" AS o
LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = o.budget_id
WHERE o.organization_id = %(organization_id)s
