-- requires: none
-- mode: read
-- returns: row
-- Settings for the daily diff, for the current transaction only: enough work_mem for a day's hash
-- aggregate to stay in memory, and no JIT (compiling costs more than it saves on this statement).
SELECT set_config('work_mem', %(work_mem)s, true) AS work_mem, set_config('jit', 'off', true) AS jit
