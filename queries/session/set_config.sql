-- requires: none
-- mode: read
-- returns: value
-- Set a session setting (used instead of startup options behind pgbouncer).
SELECT set_config(%(name)s, %(value)s, false)
