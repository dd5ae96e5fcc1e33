-- requires: none
-- mode: read
-- returns: row
-- An index of the current schema by name: its table, validity, whether it is a partitioned
-- (parent) index, and the pid of a session building it right now. No row when it does not exist.
SELECT t.relname AS "table", ix.indisvalid AS valid, i.relkind = 'I' AS partitioned,
       (SELECT p.pid FROM pg_stat_progress_create_index p WHERE p.index_relid = i.oid LIMIT 1) AS building
FROM pg_class i
JOIN pg_index ix ON ix.indexrelid = i.oid
JOIN pg_class t ON t.oid = ix.indrelid
WHERE i.oid = to_regclass(quote_ident(%(index)s))
