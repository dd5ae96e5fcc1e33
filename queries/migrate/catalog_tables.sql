-- requires: none
-- mode: read
-- returns: rows
-- Tables of the current schema for schema comparison (baseline, diff): partitions, the ledger, dbctl's
-- own tables (dbctl_*) and extension members left out; whether each is partitioned.
SELECT c.relname AS name, c.relkind = 'p' AS partitioned
FROM pg_class c
WHERE c.relnamespace = to_regnamespace(quote_ident(current_schema()))
  AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> '_prisma_migrations'
  AND c.relname NOT LIKE 'dbctl\_%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass
                  AND d.deptype = 'e')
ORDER BY c.relname
