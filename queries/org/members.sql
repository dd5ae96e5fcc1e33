-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- An organization's members (LiteLLM_OrganizationMembership) with their email and spend.
SELECT m.user_id, u.user_email, m.user_role AS role, m.spend, m.created_at
FROM "LiteLLM_OrganizationMembership" AS m
LEFT JOIN "LiteLLM_UserTable" AS u ON u.user_id = m.user_id
WHERE m.organization_id = %(organization_id)s
ORDER BY m.user_role, coalesce(u.user_email, m.user_id)
