-- requires: 20250326162113_baseline
-- mode: read
-- returns: row
-- LiteLLM_SpendLogs' bytes on disk (heap, TOAST, indexes; every partition) and the planner's row
-- estimate: their ratio prices the rows a prune deletes (a DELETE frees no file bytes; the dead
-- tuples' space is reused after VACUUM). A table never analyzed has no reltuples: the statistics
-- collector's live-row count stands in.
SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes,
       coalesce(sum(greatest(c.reltuples, st.n_live_tup, 0)), 0)::float8 AS rows
FROM pg_class c
LEFT JOIN pg_stat_user_tables st ON st.relid = c.oid
WHERE c.relkind = 'r'
  AND (c.oid = '"LiteLLM_SpendLogs"'::regclass
       OR c.oid IN (SELECT t.relid FROM pg_partition_tree('"LiteLLM_SpendLogs"'::regclass) AS t WHERE t.isleaf))
