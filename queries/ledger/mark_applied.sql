-- requires: none
-- mode: write
-- returns: rowcount
-- A migration ran to the end: one step applied and finished_at set, as Prisma leaves a success
-- (clock_timestamp, so finished_at - started_at is how long it took).
UPDATE _prisma_migrations
SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp()
WHERE id = %(id)s
