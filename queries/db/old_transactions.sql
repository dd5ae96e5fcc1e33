-- requires: none
-- mode: read
-- returns: rows
-- Sessions whose transaction is older than a threshold and that hold or wait for locks on LiteLLM
-- tables: they block migrations and budget resets.
SELECT a.pid, a.application_name, a.state,
       extract(epoch FROM now() - a.xact_start)::float8 AS seconds,
       string_agg(DISTINCT c.relname, ', ') AS tables,
       bool_or(NOT l.granted) AS waiting
FROM pg_stat_activity a
JOIN pg_locks l ON l.pid = a.pid
JOIN pg_class c ON c.oid = l.relation
WHERE a.pid <> pg_backend_pid()
  AND a.xact_start < now() - make_interval(secs => %(seconds)s)
  AND c.relname LIKE 'LiteLLM%%'
GROUP BY a.pid, a.application_name, a.state, a.xact_start
ORDER BY a.xact_start
