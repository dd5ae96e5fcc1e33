-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Lock the organizations about to change in sorted key order; xmin for the staleness check.
SELECT organization_id AS id, xmin::text AS xmin
FROM "LiteLLM_OrganizationTable"
WHERE organization_id = ANY(%(ids)s::text[])
ORDER BY organization_id COLLATE "C"
FOR NO KEY UPDATE
