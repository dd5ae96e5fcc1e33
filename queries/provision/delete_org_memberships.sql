-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- /organization/delete: the organizations' memberships (they point at it: ON DELETE RESTRICT).
DELETE FROM "LiteLLM_OrganizationMembership" WHERE organization_id = ANY(%(ids)s::text[])
