-- requires: none
-- mode: read
-- returns: rows
-- Partitions of a partitioned table that have no index attached under the parent index yet, with
-- their schema and whether they are partitioned themselves.
SELECT child.relname AS name, n.nspname AS schema, child.relkind = 'p' AS partitioned
FROM pg_inherits h
JOIN pg_class child ON child.oid = h.inhrelid
JOIN pg_namespace n ON n.oid = child.relnamespace
WHERE h.inhparent = to_regclass(quote_ident(%(table)s))
  AND NOT EXISTS (SELECT 1 FROM pg_inherits attached
                  JOIN pg_index x ON x.indexrelid = attached.inhrelid
                  WHERE attached.inhparent = to_regclass(quote_ident(%(index)s)) AND x.indrelid = child.oid)
ORDER BY child.relname
