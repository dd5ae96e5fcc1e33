-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Lock the membership rows about to change, sorted by (user_id, team_id); xmin for the staleness check.
SELECT m.user_id || chr(31) || m.team_id AS id, m.xmin::text AS xmin
FROM "LiteLLM_TeamMembership" AS m
JOIN unnest(%(user_ids)s::text[], %(team_ids)s::text[]) AS k(user_id, team_id)
  ON m.user_id = k.user_id AND m.team_id = k.team_id
ORDER BY m.user_id COLLATE "C", m.team_id COLLATE "C"
FOR NO KEY UPDATE OF m
