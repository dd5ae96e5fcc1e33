-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- The partitioned staging table: LiteLLM_SpendLogs's columns, defaults and checks, in its column
-- order, range-partitioned on "startTime" as LiteLLM's partition manager expects.
CREATE TABLE IF NOT EXISTS "LiteLLM_SpendLogs_new" (
    LIKE "LiteLLM_SpendLogs" INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY
        INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION
) PARTITION BY RANGE ("startTime")
