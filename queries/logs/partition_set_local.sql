-- requires: none
-- mode: read
-- returns: value
-- A setting for the rest of this transaction only (lock_timeout of a swap attempt).
SELECT set_config(%(name)s, %(value)s, true)
