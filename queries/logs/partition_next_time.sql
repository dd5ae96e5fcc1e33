-- requires: 20250326162113_baseline
-- mode: read
-- returns: value
-- The first "startTime" after `after` (a batch boundary when more than a batch of rows share one instant).
SELECT min("startTime") FROM "LiteLLM_SpendLogs" WHERE "startTime" > %(after)s
