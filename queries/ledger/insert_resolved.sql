-- requires: none
-- mode: write
-- returns: none
-- `resolve --applied` / baseline: a fresh finished row as Prisma's resolve writes it (logs '',
-- started_at = finished_at = now(), applied_steps_count 0, the local file's checksum).
INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, started_at, finished_at, applied_steps_count)
VALUES (%(id)s, %(checksum)s, %(name)s, '', now(), now(), 0)
