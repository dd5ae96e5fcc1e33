-- requires: none
-- mode: write
-- returns: none
-- Record a failed migration whose transaction rolled back (its started row went with it).
INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, started_at, applied_steps_count)
VALUES (%(id)s, %(checksum)s, %(name)s, %(logs)s, %(started_at)s, 0)
