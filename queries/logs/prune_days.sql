-- requires: none
-- mode: read
-- returns: rows
-- The days an earlier prune began and did not finish.
SELECT p.day, p.started_at, p.forced FROM "dbctl_logs_prune_days" p ORDER BY p.day
