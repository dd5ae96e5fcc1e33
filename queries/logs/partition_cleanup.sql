-- requires: none
-- mode: write
-- returns: none
-- The end of a conversion: its state tables and the mirror function go (the triggers went at the swap).
DO $$
BEGIN
    DROP FUNCTION IF EXISTS dbctl_logs_partition_mirror();
    DROP TABLE IF EXISTS dbctl_logs_partition_dirty;
    DROP TABLE IF EXISTS dbctl_logs_partition_index;
    DROP TABLE IF EXISTS dbctl_logs_partition;
END
$$
