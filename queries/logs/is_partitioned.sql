-- requires: none
-- mode: read
-- returns: value
-- Whether LiteLLM_SpendLogs (in the current schema) is range-partitioned: LiteLLM's own test
-- (spend_logs_partition_manager.is_partitioned).
SELECT EXISTS (
    SELECT 1
    FROM pg_partitioned_table pt
    JOIN pg_class c ON c.oid = pt.partrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relname = 'LiteLLM_SpendLogs' AND n.nspname = current_schema()
) AS partitioned
