-- requires: none
-- mode: read
-- returns: rows
-- Each migration name in the ledger, whether some row of it is applied and whether one is failed.
-- Prisma's states: applied = finished and not rolled back; failed = neither finished nor rolled back.
SELECT migration_name,
       bool_or(finished_at IS NOT NULL AND rolled_back_at IS NULL) AS applied,
       bool_or(finished_at IS NULL AND rolled_back_at IS NULL) AS failed
FROM _prisma_migrations
GROUP BY migration_name
ORDER BY migration_name
