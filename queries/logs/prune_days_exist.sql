-- requires: none
-- mode: read
-- returns: value
-- Whether dbctl_logs_prune_days exists (a read-only run, a dry run, does not create it).
SELECT to_regclass('"dbctl_logs_prune_days"') IS NOT NULL AS present
