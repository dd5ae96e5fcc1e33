-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- What a partitioned LiteLLM_SpendLogs cannot carry: materialized views over it, foreign keys that
-- reference it, unique indexes (other than the primary key) without "startTime".
SELECT 'materialized view ' || v.relname AS problem
FROM pg_depend d
JOIN pg_rewrite rw ON rw.oid = d.objid
JOIN pg_class v ON v.oid = rw.ev_class
WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = '"LiteLLM_SpendLogs"'::regclass AND v.relkind = 'm'
UNION
SELECT 'foreign key ' || con.conname || ' of ' || con.conrelid::regclass::text
FROM pg_constraint con
WHERE con.confrelid = '"LiteLLM_SpendLogs"'::regclass
UNION
SELECT 'unique index ' || i.relname || ' (a unique index of a partitioned table must include "startTime")'
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = '"LiteLLM_SpendLogs"'::regclass AND x.indisunique AND NOT x.indisprimary
  AND NOT (SELECT a.attnum FROM pg_attribute a
           WHERE a.attrelid = x.indrelid AND a.attname = 'startTime') = ANY (x.indkey::int2[])
ORDER BY 1
