-- requires: none
-- mode: write
-- returns: none
-- `resolve --applied` / baseline: a fresh finished row (logs '', started_at = finished_at = now()).
INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, started_at, finished_at, applied_steps_count)
VALUES (%(id)s, %(checksum)s, %(name)s, '', now(), now(), %(steps)s)
