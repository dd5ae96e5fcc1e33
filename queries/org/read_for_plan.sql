-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Organizations a spec may name, by organization_id or organization_alias. Their limits live in the
-- budget row (budget_row/read_for_plan); xmin lets apply check that nothing changed meanwhile.
SELECT organization_id, organization_alias, models, metadata, budget_id, xmin::text AS xmin
FROM "LiteLLM_OrganizationTable"
WHERE organization_id = ANY(%(ids)s::text[]) OR organization_alias = ANY(%(aliases)s::text[])
