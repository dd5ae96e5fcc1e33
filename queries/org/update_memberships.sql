-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Set the planned role of existing organization memberships.
UPDATE "LiteLLM_OrganizationMembership" AS m
SET user_role = r.user_role, updated_at = %(now)s::timestamp
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(user_id text, organization_id text, user_role text)
WHERE m.user_id = r.user_id AND m.organization_id = r.organization_id
