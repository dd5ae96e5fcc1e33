-- requires: none
-- mode: read
-- returns: rows
-- Every table and index of the current schema with the estimated rows and total size of its table
-- (summed over the partitions of a partitioned one), to rank lint findings by what a lock costs.
SELECT c.relname AS name, tc.relname AS "table", s.estimated_rows, s.bytes
FROM pg_class c
LEFT JOIN pg_index ix ON ix.indexrelid = c.oid
JOIN pg_class tc ON tc.oid = coalesce(ix.indrelid, c.oid)
CROSS JOIN LATERAL (
    SELECT coalesce(sum(greatest(p.reltuples, 0)), 0)::bigint AS estimated_rows,
           coalesce(sum(pg_total_relation_size(p.oid)), 0)::bigint AS bytes
    FROM pg_class p
    WHERE p.oid = tc.oid
       OR (tc.relkind = 'p' AND p.oid IN (SELECT relid FROM pg_partition_tree(tc.oid) WHERE isleaf))
) s
WHERE c.relnamespace = to_regnamespace(quote_ident(current_schema())) AND c.relkind IN ('r', 'p', 'i', 'I')
