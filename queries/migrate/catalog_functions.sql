-- requires: none
-- mode: read
-- returns: rows
-- Functions and procedures of the current schema (not extension members): signature, result,
-- language and source text.
SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name,
       pg_get_function_result(p.oid) AS returns, l.lanname AS language, p.prosrc AS source
FROM pg_proc p
JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = to_regnamespace(quote_ident(current_schema()))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.classid = 'pg_proc'::regclass
                  AND d.deptype = 'e')
ORDER BY 1
