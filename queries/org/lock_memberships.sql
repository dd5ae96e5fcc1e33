-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Lock the organization memberships about to change, sorted by (user_id, organization_id).
SELECT m.user_id || chr(31) || m.organization_id AS id, m.xmin::text AS xmin
FROM "LiteLLM_OrganizationMembership" AS m
JOIN unnest(%(user_ids)s::text[], %(org_ids)s::text[]) AS k(user_id, organization_id)
  ON m.user_id = k.user_id AND m.organization_id = k.organization_id
ORDER BY m.user_id COLLATE "C", m.organization_id COLLATE "C"
FOR NO KEY UPDATE OF m
