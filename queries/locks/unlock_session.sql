-- requires: none
-- mode: read
-- returns: value
-- Release a session-level advisory lock taken by try_session.
SELECT pg_advisory_unlock(%(key)s::bigint)
