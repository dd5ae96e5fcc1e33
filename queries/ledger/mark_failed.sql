-- requires: none
-- mode: write
-- returns: rowcount
-- A migration run outside a transaction failed: its row keeps finished_at NULL and logs the error
-- (Prisma's failed state); `rolled_back` also sets rolled_back_at when nothing of it stayed.
UPDATE _prisma_migrations
SET logs = %(logs)s, rolled_back_at = CASE WHEN %(rolled_back)s THEN now() END
WHERE id = %(id)s
