-- requires: none
-- mode: read
-- returns: row
-- The current database's name and its size on disk (every relation, as pg_database_size counts it; NULL
-- when the role may not see it). The filesystem's free space is not visible from SQL.
SELECT current_database() AS name,
       CASE WHEN has_database_privilege(current_database(), 'CONNECT')
            THEN pg_database_size(current_database()) END AS bytes
