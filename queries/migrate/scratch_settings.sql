-- requires: none
-- mode: write
-- returns: none
-- identifiers: database
-- A scratch database is thrown away: its commits need not wait for the WAL flush.
ALTER DATABASE {database} SET synchronous_commit = off
