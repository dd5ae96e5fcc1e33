-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- A user's organizations with the role held in each.
SELECT o.organization_id, o.organization_alias, m.user_role AS role, m.spend
FROM "LiteLLM_OrganizationMembership" AS m
JOIN "LiteLLM_OrganizationTable" AS o ON o.organization_id = m.organization_id
WHERE m.user_id = %(user_id)s
ORDER BY o.organization_alias
