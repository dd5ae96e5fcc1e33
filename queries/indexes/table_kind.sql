-- requires: none
-- mode: read
-- returns: row
-- Whether a table of the current schema exists and is partitioned (no row when it does not exist).
SELECT c.relkind = 'p' AS partitioned
FROM pg_class c
WHERE c.oid = to_regclass(quote_ident(%(table)s)) AND c.relkind IN ('r', 'p')
