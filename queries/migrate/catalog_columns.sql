-- requires: none
-- mode: read
-- returns: rows
-- Columns of the compared tables: type as PostgreSQL renders it, nullability, default expression,
-- identity and generated kind.
SELECT c.relname AS "table", a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null,
       pg_get_expr(ad.adbin, ad.adrelid) AS "default",
       nullif(a.attidentity, '') AS identity,
       nullif(a.attgenerated, '') AS generated
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE c.relnamespace = to_regnamespace(quote_ident(current_schema()))
  AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> '_prisma_migrations'
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
