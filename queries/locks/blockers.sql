-- requires: none
-- mode: read
-- returns: rows
-- The sessions blocking session `pid` (pg_blocking_pids), with their application_name: asked from a
-- second connection while `pid` waits on a row or table lock, since a waiting session cannot ask.
SELECT a.pid, a.application_name
FROM pg_stat_activity a
WHERE a.pid = ANY(pg_blocking_pids(%(pid)s))
ORDER BY a.pid
