-- requires: none
-- mode: read
-- returns: rows
-- Names of the VOLATILE functions visible here: a column added with a default that calls one is
-- filled row by row, rewriting the table under ACCESS EXCLUSIVE.
SELECT DISTINCT p.proname AS name
FROM pg_proc p
WHERE p.provolatile = 'v' AND p.prokind = 'f'
  AND p.pronamespace IN (SELECT to_regnamespace(quote_ident(s)) FROM unnest(current_schemas(true)) s)
