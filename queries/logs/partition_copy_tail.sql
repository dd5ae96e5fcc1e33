-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- The last copy batch: every row from `lower` on (newer ones the mirror trigger has already copied).
INSERT INTO "LiteLLM_SpendLogs_new"
SELECT * FROM "LiteLLM_SpendLogs"
WHERE "startTime" >= %(lower)s
ON CONFLICT DO NOTHING
