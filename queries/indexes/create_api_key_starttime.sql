-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- identifiers: index, table
-- LiteLLM_SpendLogs_api_key_startTime_idx on a plain table or one partition, built CONCURRENTLY so
-- spend-log inserts go on (schema.prisma's @@index([api_key, startTime]); no migration builds it).
CREATE INDEX CONCURRENTLY IF NOT EXISTS {index} ON {table} ("api_key", "startTime")
