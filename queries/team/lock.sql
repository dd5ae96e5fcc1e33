-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Lock the teams about to change in sorted key order; their xmin tells apply whether the plan is stale.
SELECT team_id AS id, xmin::text AS xmin
FROM "LiteLLM_TeamTable"
WHERE team_id = ANY(%(ids)s::text[])
ORDER BY team_id COLLATE "C"
FOR NO KEY UPDATE
