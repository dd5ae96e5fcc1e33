-- requires: none
-- mode: write
-- returns: rowcount
-- Close the rows Prisma left unfinished after the script succeeded: one step applied, no logs
-- (LiteLLM's migration_recovery proof; the caller has checked the checksum against the file).
UPDATE _prisma_migrations SET finished_at = now()
WHERE migration_name = %(name)s AND finished_at IS NULL AND rolled_back_at IS NULL
  AND applied_steps_count = 1 AND nullif(logs, '') IS NULL
