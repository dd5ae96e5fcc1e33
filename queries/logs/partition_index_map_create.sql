-- requires: none
-- mode: write
-- returns: none
-- The indexes of the partitioned staging table under temporary names, the name each takes at the
-- swap, and the name the plain table's index of that name is moved aside to.
CREATE TABLE IF NOT EXISTS dbctl_logs_partition_index (
    final_name text PRIMARY KEY,
    new_name text NOT NULL,
    aside_name text NOT NULL
)
