-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Write the planned alias, models and metadata of locked, unchanged organization rows.
UPDATE "LiteLLM_OrganizationTable" AS o
SET organization_alias = r.organization_alias, models = r.models, metadata = r.metadata,
    updated_by = %(actor)s, updated_at = %(now)s::timestamp
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    organization_id text, organization_alias text, models text[], metadata jsonb)
WHERE o.organization_id = r.organization_id
