-- requires: none
-- mode: write
-- returns: none
-- identifiers: partition
-- Drop a detached spend-log partition: its rows and disk go at once, with no dead tuples to vacuum.
DROP TABLE {partition}
