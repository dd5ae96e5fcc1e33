-- requires: none
-- mode: read
-- returns: rows
-- Every column of every table and view visible in the current schema and pg_catalog, for
-- `queries check` (the names a query uses must exist here).
SELECT c.relname AS "table", a.attname AS "column"
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND (n.nspname = current_schema() OR n.nspname = 'pg_catalog')
