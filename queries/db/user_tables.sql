-- requires: none
-- mode: read
-- returns: value
-- Tables in the current schema other than the ledger: a schema with some but no ledger needs a baseline.
SELECT count(*) FROM pg_catalog.pg_tables
WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations'
