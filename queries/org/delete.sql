-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Delete the organization row (users' organization_id is set NULL by the foreign key).
DELETE FROM "LiteLLM_OrganizationTable" WHERE organization_id = %(org_id)s
