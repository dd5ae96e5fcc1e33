-- requires: 20260831120000_add_litellm_call_id_spend_logs
-- mode: write
-- returns: none
-- identifiers: index, table
-- LiteLLM_SpendLogs_litellm_call_id_idx on a plain table or one partition, built CONCURRENTLY so
-- spend-log inserts go on (schema.prisma's @@index([litellm_call_id]); no migration builds it).
CREATE INDEX CONCURRENTLY IF NOT EXISTS {index} ON {table} ("litellm_call_id")
