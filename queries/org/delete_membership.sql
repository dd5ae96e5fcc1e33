-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- /organization/member_delete: remove these (user_id, organization_id) LiteLLM_OrganizationMembership rows.
DELETE FROM "LiteLLM_OrganizationMembership" AS m
USING jsonb_to_recordset(%(rows)s::jsonb) AS r(user_id text, organization_id text)
WHERE m.user_id = r.user_id AND m.organization_id = r.organization_id
