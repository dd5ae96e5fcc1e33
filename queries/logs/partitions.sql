-- requires: none
-- mode: read
-- returns: rows
-- The partitions of a partitioned LiteLLM_SpendLogs: name, bound expression ("FOR VALUES FROM
-- ('YYYY-MM-DD 00:00:00') TO ('YYYY-MM-DD 00:00:00')", or DEFAULT) and bytes on disk.
SELECT c.relname AS name,
       pg_get_expr(c.relpartbound, c.oid) AS bound,
       pg_total_relation_size(c.oid)::bigint AS bytes
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
JOIN pg_namespace n ON n.oid = p.relnamespace
WHERE p.relname = 'LiteLLM_SpendLogs' AND n.nspname = current_schema()
ORDER BY c.relname
