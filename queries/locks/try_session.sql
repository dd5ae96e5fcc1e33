-- requires: none
-- mode: read
-- returns: value
-- Try to take a session-level advisory lock without waiting; true when taken.
SELECT pg_try_advisory_lock(%(key)s::bigint)
