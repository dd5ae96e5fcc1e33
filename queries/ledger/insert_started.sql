-- requires: none
-- mode: write
-- returns: none
-- A migration is about to run: Prisma's "started" row (finished_at and logs NULL, 0 steps).
INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count)
VALUES (%(id)s, %(checksum)s, %(name)s, now(), 0)
