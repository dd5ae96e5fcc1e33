-- requires: none
-- mode: write
-- returns: none
-- identifiers: database
-- Drop a scratch database dbctl created, even if a connection to it lingers.
DROP DATABASE IF EXISTS {database} WITH (FORCE)
