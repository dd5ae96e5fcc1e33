-- requires: none
-- mode: read
-- returns: row
-- Who holds an advisory lock on a bigint key, to name them when we give up waiting.
SELECT a.pid, a.application_name, a.backend_start
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted
  AND l.classid = ((%(key)s::bigint >> 32) & 4294967295)::oid
  AND l.objid = (%(key)s::bigint & 4294967295)::oid
  AND l.objsubid = 1
LIMIT 1
