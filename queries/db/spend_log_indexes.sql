-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Indexes on LiteLLM_SpendLogs with their key columns and validity, to find the request-log indexes
-- LiteLLM builds outside its migrations (by name or an equivalent column list).
SELECT i.relname AS name,
       ix.indisvalid AS valid,
       array_agg(a.attname ORDER BY k.ord)::text[] AS columns
FROM pg_index ix
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE t.relname = 'LiteLLM_SpendLogs' AND n.nspname = current_schema()
GROUP BY i.relname, ix.indisvalid
ORDER BY i.relname
