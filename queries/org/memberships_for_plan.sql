-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- LiteLLM_OrganizationMembership rows of these users in these organizations, with the member's budget
-- row (budget_id: /organization/member_update's max_budget_in_organization), which removal undoes.
SELECT user_id, organization_id, user_role, budget_id, xmin::text AS xmin
FROM "LiteLLM_OrganizationMembership"
WHERE organization_id = ANY(%(org_ids)s::text[]) AND user_id = ANY(%(user_ids)s::text[])
