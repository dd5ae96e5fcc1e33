-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- /organization/delete: the organization rows, after delete_org_memberships (its budget row stays,
-- as in LiteLLM; users naming it get organization_id NULL by the foreign key).
DELETE FROM "LiteLLM_OrganizationTable" WHERE organization_id = ANY(%(ids)s::text[])
