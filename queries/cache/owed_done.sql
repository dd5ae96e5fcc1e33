-- requires: none
-- mode: write
-- returns: rowcount
-- Owed invalidations Redis has now been given: their rows go.
DELETE FROM "dbctl_pending_invalidations" WHERE id = ANY(%(ids)s)
