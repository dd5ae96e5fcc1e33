-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Lock the membership rows about to change, sorted by (user_id, team_id); xmin for the staleness check.
SELECT user_id || chr(31) || team_id AS id, xmin::text AS xmin
FROM "LiteLLM_TeamMembership"
WHERE (user_id, team_id) IN (SELECT * FROM unnest(%(user_ids)s::text[], %(team_ids)s::text[]))
ORDER BY user_id COLLATE "C", team_id COLLATE "C"
FOR NO KEY UPDATE
