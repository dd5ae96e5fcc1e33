-- requires: none
-- mode: read
-- returns: row
-- Settings for the current transaction only, for statements that sort or aggregate 10^5-10^6 rows
-- (the daily diff's hash aggregate, budget sync's due rows in key order): enough work_mem to stay in
-- memory, and no JIT (compiling costs more than it saves on these statements).
SELECT set_config('work_mem', %(work_mem)s, true) AS work_mem, set_config('jit', 'off', true) AS jit
