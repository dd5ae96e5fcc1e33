-- requires: none
-- mode: read
-- returns: value
-- Whether the planner's statistics cover table %(table)s's column %(column)s: true when every leaf relation
-- that holds data has a reltuples figure and a pg_stats row for the column (ANALYZE, or autovacuum's,
-- has run since it was filled), so logs/size_estimate adds up to the table.
SELECT coalesce(bool_and(pg_relation_size(c.oid) = 0 OR (c.reltuples >= 0 AND EXISTS (
           SELECT FROM pg_stats AS s
           WHERE s.schemaname = current_schema() AND s.tablename = c.relname
             AND s.attname = %(column)s AND NOT s.inherited))), true) AS covered
FROM pg_class AS p
JOIN pg_namespace AS n ON n.oid = p.relnamespace AND n.nspname = current_schema()
CROSS JOIN LATERAL (SELECT r.relid, r.isleaf FROM pg_partition_tree(p.oid) AS r
                    UNION SELECT p.oid, true WHERE p.relkind = 'r') AS t
JOIN pg_class AS c ON c.oid = t.relid AND t.isleaf
WHERE p.relname = %(table)s AND p.relkind IN ('r', 'p')
