-- requires: none
-- mode: read
-- returns: rows
-- The columns of table %(table)s in the current schema, in their order, with their types as PostgreSQL
-- names them (format_type): what an archive's Parquet schema is built from.
SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace AND n.nspname = current_schema()
WHERE c.relname = %(table)s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
