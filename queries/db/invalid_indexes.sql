-- requires: none
-- mode: read
-- returns: rows
-- INVALID indexes (an interrupted CREATE INDEX CONCURRENTLY) on LiteLLM tables in this schema.
SELECT i.relname AS index, t.relname AS "table"
FROM pg_index ix
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE NOT ix.indisvalid AND n.nspname = current_schema() AND t.relname LIKE 'LiteLLM%%'
ORDER BY t.relname, i.relname
