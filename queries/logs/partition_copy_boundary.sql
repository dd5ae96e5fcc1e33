-- requires: 20250326162113_baseline
-- mode: read
-- returns: value
-- Where a copy batch of about `rows` rows from `lower` ends: the "startTime" of the row after them
-- (none: fewer are left), read from the "startTime" index.
SELECT "startTime" FROM "LiteLLM_SpendLogs"
WHERE "startTime" >= %(lower)s
ORDER BY "startTime"
OFFSET %(rows)s LIMIT 1
