-- requires: none
-- mode: write
-- returns: none
-- Empty the staging table at the start of a chunk's transaction (what a killed run left there
-- was rolled back with it; this is for a table a crash left with rows).
TRUNCATE "dbctl_spend_ingest"
