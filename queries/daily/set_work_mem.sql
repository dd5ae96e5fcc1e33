-- requires: none
-- mode: read
-- returns: value
-- Memory for the diff's hash aggregates and joins, for the current transaction only: a day of
-- daily rows then aggregates in memory instead of spilling to disk.
SELECT set_config('work_mem', %(work_mem)s, true)
