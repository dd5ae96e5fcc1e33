-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- /organization/delete: every LiteLLM_OrganizationMembership row of the organization; returns the members.
DELETE FROM "LiteLLM_OrganizationMembership" WHERE organization_id = %(org_id)s RETURNING user_id, user_role
