-- requires: none
-- mode: read
-- returns: rows
-- Enum types of the current schema with their labels in order.
SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
FROM pg_type t
JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typnamespace = to_regnamespace(quote_ident(current_schema()))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.classid = 'pg_type'::regclass
                  AND d.deptype = 'e')
GROUP BY t.typname
ORDER BY t.typname
