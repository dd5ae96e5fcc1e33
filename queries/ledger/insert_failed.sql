-- requires: none
-- mode: write
-- returns: none
-- Record a failed migration whose transaction rolled back (its started row went with it): Prisma's
-- failed state (finished_at NULL, logs hold the error). `rolled_back` also sets rolled_back_at,
-- for a transient failure (lock timeout) where nothing of the migration stayed.
INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, started_at, rolled_back_at, applied_steps_count)
VALUES (%(id)s, %(checksum)s, %(name)s, %(logs)s, %(started_at)s,
        CASE WHEN %(rolled_back)s THEN now() END, 0)
