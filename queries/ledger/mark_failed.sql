-- requires: none
-- mode: write
-- returns: rowcount
-- A migration failed: its row keeps finished_at NULL and logs the error (Prisma's failed state).
UPDATE _prisma_migrations SET logs = %(logs)s WHERE id = %(id)s
