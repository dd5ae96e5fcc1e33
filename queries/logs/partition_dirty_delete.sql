-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Reconcile, first: remove from the staging table every row whose key an update or delete recorded.
DELETE FROM "LiteLLM_SpendLogs_new" n
USING (SELECT DISTINCT request_id, "startTime" FROM dbctl_logs_partition_dirty) d
WHERE n.request_id = d.request_id AND n."startTime" = d."startTime"
