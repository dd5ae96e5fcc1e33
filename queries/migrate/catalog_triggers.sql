-- requires: none
-- mode: read
-- returns: rows
-- User triggers on the compared tables as pg_get_triggerdef renders them (the table's schema left out).
SELECT t.relname AS "table", tg.tgname AS name, replace(pg_get_triggerdef(tg.oid), ' ON ' || quote_ident(current_schema()) || '.', ' ON ') AS definition
FROM pg_trigger tg
JOIN pg_class t ON t.oid = tg.tgrelid
WHERE t.relnamespace = to_regnamespace(quote_ident(current_schema()))
  AND NOT tg.tgisinternal AND NOT t.relispartition
ORDER BY t.relname, tg.tgname
