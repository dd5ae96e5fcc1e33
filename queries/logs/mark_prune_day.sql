-- requires: none
-- mode: write
-- returns: none
-- Record that a prune begins deleting this day (before its first batch commits).
INSERT INTO "dbctl_logs_prune_days" (day, forced) VALUES (%(day)s, %(forced)s)
ON CONFLICT (day) DO NOTHING
