-- requires: none
-- mode: read
-- returns: rows
-- Every ledger row, oldest first, as Prisma's diagnostics read them.
SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
FROM _prisma_migrations
ORDER BY started_at, migration_name
