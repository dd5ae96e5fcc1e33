-- requires: none
-- mode: read
-- returns: value
-- The statement_timeout of one batch's transaction only: a batch is bounded in time as in rows.
SELECT set_config('statement_timeout', %(statement_timeout)s, true)
