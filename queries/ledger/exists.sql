-- requires: none
-- mode: read
-- returns: value
-- Whether the Prisma migration ledger exists in the current schema (search_path).
SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists
