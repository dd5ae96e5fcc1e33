-- requires: none
-- mode: read
-- returns: row
-- An index of the current schema by name: whether it is valid, and the pid of a session building
-- it right now (CREATE INDEX CONCURRENTLY in progress), if any. No row when there is no such index.
SELECT ix.indisvalid AS valid,
       (SELECT p.pid FROM pg_stat_progress_create_index p WHERE p.index_relid = i.oid LIMIT 1) AS building
FROM pg_class i
JOIN pg_index ix ON ix.indexrelid = i.oid
WHERE i.oid = to_regclass(quote_ident(%(name)s))
