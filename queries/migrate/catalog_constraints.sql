-- requires: none
-- mode: read
-- returns: rows
-- Constraints of the compared tables (primary key, unique, foreign key, check, exclusion) as
-- pg_get_constraintdef renders them; PostgreSQL 18's NOT NULL constraints are left to the columns.
SELECT t.relname AS "table", con.conname AS name, con.contype::text AS type,
       pg_get_constraintdef(con.oid) AS definition
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.conrelid
WHERE t.relnamespace = to_regnamespace(quote_ident(current_schema()))
  AND t.relkind IN ('r', 'p') AND NOT t.relispartition AND t.relname <> '_prisma_migrations'
  AND con.contype IN ('p', 'u', 'f', 'c', 'x') AND con.conparentid = 0
ORDER BY t.relname, con.conname
