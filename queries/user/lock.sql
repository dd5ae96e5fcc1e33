-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Lock the users about to change, in sorted key order (as LiteLLM's spend flush does), and return
-- their xmin so apply can tell whether anything changed since the plan was read.
SELECT user_id AS id, xmin::text AS xmin
FROM "LiteLLM_UserTable"
WHERE user_id = ANY(%(ids)s::text[])
ORDER BY user_id COLLATE "C"
FOR NO KEY UPDATE
