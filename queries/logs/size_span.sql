-- requires: 20250326162113_baseline
-- mode: read
-- returns: row
-- The oldest and newest spend log (startTime, UTC), from the ends of the startTime index.
SELECT min(l."startTime") AS oldest, max(l."startTime") AS newest
FROM "LiteLLM_SpendLogs" AS l
