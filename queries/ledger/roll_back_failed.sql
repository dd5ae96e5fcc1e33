-- requires: none
-- mode: write
-- returns: rowcount
-- Mark every failed row of a migration rolled back; history is kept, never deleted.
UPDATE _prisma_migrations SET rolled_back_at = now()
WHERE migration_name = %(name)s AND finished_at IS NULL AND rolled_back_at IS NULL
