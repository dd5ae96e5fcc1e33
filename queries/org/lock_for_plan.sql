-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Organizations a plan changes, locked in sorted key order (as LiteLLM's spend flush locks them, so the
-- two never deadlock), with `seen` exactly as org/read_for_plan computes it: a spend increment
-- meanwhile leaves it equal, a change to anything the plan compared does not.
SELECT organization_id AS id,
       md5(ROW(organization_id, organization_alias, models, metadata, budget_id)::text) AS seen
FROM "LiteLLM_OrganizationTable"
WHERE organization_id = ANY(%(ids)s::text[])
ORDER BY organization_id COLLATE "C"
FOR NO KEY UPDATE
