-- requires: none
-- mode: read
-- returns: row
-- Estimated rows and total size of a table (all partitions of a partitioned one), for reports.
SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint AS estimated_rows,
       coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes
FROM pg_partition_tree(to_regclass(quote_ident(%(table)s))) t
JOIN pg_class c ON c.oid = t.relid
