-- requires: none
-- mode: read
-- returns: rows
-- Indexes of the compared tables: uniqueness, method and key as pg_get_indexdef renders them from
-- USING on (the table's schema left out), key column names, validity.
SELECT t.relname AS "table", i.relname AS name, ix.indisunique AS "unique", ix.indisprimary AS "primary",
       substring(pg_get_indexdef(ix.indexrelid) FROM ' USING .*$') AS definition,
       ix.indisvalid AS valid,
       ARRAY(SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns
FROM pg_index ix
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_class i ON i.oid = ix.indexrelid
WHERE t.relnamespace = to_regnamespace(quote_ident(current_schema()))
  AND t.relkind IN ('r', 'p') AND NOT t.relispartition AND t.relname <> '_prisma_migrations'
ORDER BY t.relname, i.relname
