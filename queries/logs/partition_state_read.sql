-- requires: none
-- mode: read
-- returns: row
-- The conversion in progress, if any.
SELECT phase, "interval", copied_until, rows_copied, batches, started_at, swapped_at
FROM dbctl_logs_partition
WHERE id = 1
