-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- --exact-members: every LiteLLM_OrganizationMembership row of the spec's organizations.
SELECT user_id, organization_id, user_role, budget_id
FROM "LiteLLM_OrganizationMembership"
WHERE organization_id = ANY(%(org_ids)s::text[])
