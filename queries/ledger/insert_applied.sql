-- requires: none
-- mode: write
-- returns: none
-- A transactional migration's row, sent in one query string right after its script so both commit
-- or neither does: the state Prisma's success lifecycle ends in (one step applied, finished_at set,
-- logs NULL); started_at is the transaction's start, finished_at the moment the script ended.
INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
VALUES (%(id)s, %(checksum)s, %(name)s, now(), clock_timestamp(), 1)
