-- requires: none
-- mode: read
-- returns: rows
-- The spend-log table and the tables LiteLLM's cleanup job also prunes (those of %(tables)s present in
-- the current schema), read from the catalog without scanning them: heap, TOAST and index bytes and the
-- planner's row estimate (reltuples; NULL when a relation was never vacuumed or analyzed). A partitioned
-- table's figures are summed over its partitions (pg_partition_tree: a plain table is its own only leaf).
SELECT p.relname AS table_name,
       p.relkind = 'p' AS partitioned,
       count(*) FILTER (WHERE t.relid <> p.oid)::int AS partitions,
       CASE WHEN bool_and(c.reltuples >= 0 OR pg_relation_size(c.oid) = 0)
            THEN sum(greatest(c.reltuples, 0))::float8 END AS rows_estimate,
       coalesce(sum(pg_relation_size(c.oid, 'main') + pg_relation_size(c.oid, 'fsm')
                    + pg_relation_size(c.oid, 'vm')), 0)::bigint AS heap_bytes,
       coalesce(sum(CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) ELSE 0 END),
                0)::bigint AS toast_bytes,
       coalesce(sum(pg_indexes_size(c.oid)), 0)::bigint AS index_bytes
FROM pg_class AS p
JOIN pg_namespace AS n ON n.oid = p.relnamespace AND n.nspname = current_schema()
CROSS JOIN LATERAL (SELECT r.relid, r.isleaf FROM pg_partition_tree(p.oid) AS r
                    UNION SELECT p.oid, true WHERE p.relkind = 'r') AS t
JOIN pg_class AS c ON c.oid = t.relid AND t.isleaf
WHERE p.relname = ANY(%(tables)s::text[]) AND p.relkind IN ('r', 'p')
GROUP BY p.oid, p.relname, p.relkind
ORDER BY array_position(%(tables)s::text[], p.relname::text)
