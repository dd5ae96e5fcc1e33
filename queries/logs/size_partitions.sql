-- requires: none
-- mode: read
-- returns: rows
-- The partitions of table %(table)s in the current schema (none for a plain table), oldest range first:
-- each one's bounds as PostgreSQL prints them, its bytes (heap, TOAST and indexes) and row estimate.
SELECT c.relname AS partition, pg_get_expr(c.relpartbound, c.oid) AS bounds,
       CASE WHEN c.reltuples >= 0 OR pg_relation_size(c.oid) = 0 THEN greatest(c.reltuples, 0)::float8 END AS rows_estimate,
       pg_total_relation_size(c.oid)::bigint AS total_bytes
FROM pg_class AS p
JOIN pg_namespace AS n ON n.oid = p.relnamespace AND n.nspname = current_schema()
CROSS JOIN LATERAL pg_partition_tree(p.oid) AS t
JOIN pg_class AS c ON c.oid = t.relid AND t.isleaf AND t.relid <> p.oid
WHERE p.relname = %(table)s AND p.relkind = 'p'
ORDER BY pg_get_expr(c.relpartbound, c.oid) LIKE '%%DEFAULT%%', pg_get_expr(c.relpartbound, c.oid), c.relname
