-- requires: none
-- mode: write
-- returns: none
-- The reconcile outside the swap sees one snapshot: the keys it forgets are exactly those it copied.
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ
