-- requires: none
-- mode: read
-- returns: rows
-- Views and materialized views of the current schema with their definitions.
SELECT c.relname AS name, c.relkind = 'm' AS materialized, pg_get_viewdef(c.oid) AS definition
FROM pg_class c
WHERE c.relnamespace = to_regnamespace(quote_ident(current_schema())) AND c.relkind IN ('v', 'm')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass
                  AND d.deptype = 'e')
ORDER BY c.relname
