-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- identifiers: index, table
-- The parent index of LiteLLM_SpendLogs_api_key_startTime_idx on a partitioned table: ON ONLY is a
-- catalog entry (CONCURRENTLY is refused on a parent); valid once every partition's is attached.
CREATE INDEX IF NOT EXISTS {index} ON ONLY {table} ("api_key", "startTime")
