-- requires: none
-- mode: write
-- returns: none
-- identifiers: index
-- Drop an INVALID index left by an interrupted concurrent build, without blocking writes.
DROP INDEX CONCURRENTLY IF EXISTS {index}
