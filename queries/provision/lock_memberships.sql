-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- identifiers: table, group
-- variant: LiteLLM_TeamMembership, team_id
-- variant: LiteLLM_OrganizationMembership, organization_id
-- Lock the team or organization memberships about to change, sorted by (user_id, team or
-- organization id); xmin for the staleness check.
SELECT user_id || chr(31) || {group} AS id, xmin::text AS xmin
FROM {table}
WHERE (user_id, {group}) IN (SELECT * FROM unnest(%(user_ids)s::text[], %(group_ids)s::text[]))
ORDER BY user_id COLLATE "C", {group} COLLATE "C"
FOR NO KEY UPDATE
