-- requires: none
-- mode: write
-- returns: value
-- Invalidations a run owes, written inside the transaction that makes them owed; its id is deleted
-- when they are done. counters: the spend counters go too (a change of spend), not only cached objects.
INSERT INTO "dbctl_pending_invalidations" (command, counters, refs)
VALUES (%(command)s, %(counters)s, %(refs)s::jsonb)
RETURNING id
