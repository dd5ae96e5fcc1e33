-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- LiteLLM_OrganizationMembership rows of these users in these organizations, with the member's budget
-- row (budget_id: /organization/member_update's max_budget_in_organization), which removal undoes.
-- `seen` is the md5 of the columns a plan compares (never spend, which proxies increment): apply
-- locks the rows and re-reads it with org/lock_memberships_for_plan; a different value means the plan went stale.
SELECT user_id, organization_id, user_role, budget_id,
       md5(ROW(user_id, organization_id, user_role, budget_id)::text) AS seen
FROM "LiteLLM_OrganizationMembership"
WHERE organization_id = ANY(%(org_ids)s::text[]) AND user_id = ANY(%(user_ids)s::text[])
