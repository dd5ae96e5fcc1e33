-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- One copy batch: the plain table's rows with "startTime" in [lower, upper) into the staging table
-- (rows the mirror trigger already put there are left alone).
INSERT INTO "LiteLLM_SpendLogs_new"
SELECT * FROM "LiteLLM_SpendLogs"
WHERE "startTime" >= %(lower)s AND "startTime" < %(upper)s
ON CONFLICT DO NOTHING
