-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Reconcile, then: copy those keys again as the plain table has them now (a deleted row stays gone).
INSERT INTO "LiteLLM_SpendLogs_new"
SELECT * FROM "LiteLLM_SpendLogs"
WHERE (request_id, "startTime") IN (SELECT d.request_id, d."startTime" FROM dbctl_logs_partition_dirty d)
ON CONFLICT DO NOTHING
