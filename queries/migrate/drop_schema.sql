-- requires: none
-- mode: write
-- returns: none
-- identifiers: schema
-- Drop a scratch schema dbctl created in a --shadow-url database, with everything in it.
DROP SCHEMA IF EXISTS {schema} CASCADE
