-- requires: none
-- mode: write
-- returns: none
-- The day is gone: its record goes too.
DELETE FROM "dbctl_logs_prune_days" WHERE day = %(day)s
