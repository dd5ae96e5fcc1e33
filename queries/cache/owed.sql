-- requires: none
-- mode: read
-- returns: rows
-- Invalidations still owed (by a run that died or whose Redis failed after its commit), oldest first;
-- none when dbctl never recorded any here.
SELECT id, created_at, command, counters, refs
FROM "dbctl_pending_invalidations"
ORDER BY id
