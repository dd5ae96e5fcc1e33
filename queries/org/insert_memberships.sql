-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- LiteLLM_OrganizationMembership rows as /organization/member_add creates them
-- ({user_id, organization_id, user_role}, spend 0).
INSERT INTO "LiteLLM_OrganizationMembership" (user_id, organization_id, user_role, spend, created_at, updated_at)
SELECT r.user_id, r.organization_id, r.user_role, 0.0, %(now)s::timestamp, %(now)s::timestamp
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(user_id text, organization_id text, user_role text)
ON CONFLICT DO NOTHING
