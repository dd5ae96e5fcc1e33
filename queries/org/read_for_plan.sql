-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Organizations a spec may name, by organization_id or organization_alias. Their limits live in the
-- budget row (budget_row/read_for_plan).
-- `seen` is the md5 of the columns a plan compares (never spend, which proxies increment): apply
-- locks the rows and re-reads it with org/lock_for_plan; a different value means the plan went stale.
SELECT organization_id, organization_alias, models, metadata, budget_id,
       md5(ROW(organization_id, organization_alias, models, metadata, budget_id)::text) AS seen
FROM "LiteLLM_OrganizationTable"
WHERE organization_id = ANY(%(ids)s::text[]) OR organization_alias = ANY(%(aliases)s::text[])
