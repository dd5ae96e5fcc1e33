-- requires: none
-- mode: read
-- returns: value
-- How a transaction ended: committed, aborted or in progress (NULL when too old to tell).
SELECT pg_xact_status(%(xid)s::xid8)
