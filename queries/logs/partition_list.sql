-- requires: none
-- mode: read
-- returns: rows
-- The partitions of `parent` in the current schema with their bounds as pg_get_expr renders them
-- (what LiteLLM's partition manager lists before it drops any).
SELECT c.relname::text AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
WHERE p.relname = %(parent)s AND p.relnamespace = to_regnamespace(quote_ident(current_schema()))
ORDER BY c.relname
