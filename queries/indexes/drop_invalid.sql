-- requires: none
-- mode: write
-- returns: none
-- identifiers: index
-- Drop an INVALID index an interrupted concurrent build left, without blocking writes.
DROP INDEX CONCURRENTLY IF EXISTS {index}
