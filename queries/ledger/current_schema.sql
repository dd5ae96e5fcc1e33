-- requires: none
-- mode: read
-- returns: value
-- The schema new tables go to (NULL when the `?schema=` schema does not exist yet).
SELECT current_schema()
