-- requires: none
-- mode: write
-- returns: rowcount
-- Reconcile, last: forget the keys just copied again (the same snapshot: REPEATABLE READ, or the swap's lock).
DELETE FROM dbctl_logs_partition_dirty
