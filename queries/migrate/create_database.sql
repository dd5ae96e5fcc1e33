-- requires: none
-- mode: write
-- returns: none
-- identifiers: database
-- A scratch database to migrate from nothing (baseline, diff): a clean copy of template0.
CREATE DATABASE {database} TEMPLATE template0
