-- requires: none
-- mode: read
-- returns: value
-- Try to take a transaction-level advisory lock without waiting; released at COMMIT/ROLLBACK.
SELECT pg_try_advisory_xact_lock(%(key)s::bigint)
