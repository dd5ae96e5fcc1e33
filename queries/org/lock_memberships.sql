-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Lock the organization memberships about to change, sorted by (user_id, organization_id).
SELECT user_id || chr(31) || organization_id AS id, xmin::text AS xmin
FROM "LiteLLM_OrganizationMembership"
WHERE (user_id, organization_id) IN (SELECT * FROM unnest(%(user_ids)s::text[], %(org_ids)s::text[]))
ORDER BY user_id COLLATE "C", organization_id COLLATE "C"
FOR NO KEY UPDATE
