-- requires: none
-- mode: read
-- returns: value
-- Whether any updated or deleted key waits to be reconciled (under the swap's lock, so the swap skips
-- planning two statements over every partition when none does).
SELECT EXISTS (SELECT 1 FROM dbctl_logs_partition_dirty)
