-- requires: none
-- mode: read
-- returns: rows
-- The largest LiteLLM tables: estimated rows, total size and dead-tuple ratio (bloat from updates).
SELECT c.relname AS "table",
       greatest(c.reltuples, 0)::bigint AS estimated_rows,
       pg_total_relation_size(c.oid) AS bytes,
       coalesce(s.n_dead_tup, 0) AS dead_tuples,
       CASE WHEN coalesce(s.n_live_tup, 0) + coalesce(s.n_dead_tup, 0) = 0 THEN 0
            ELSE round(s.n_dead_tup::numeric / (s.n_live_tup + s.n_dead_tup), 4)::float8 END AS dead_ratio
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname LIKE 'LiteLLM%%'
ORDER BY pg_total_relation_size(c.oid) DESC
LIMIT %(limit)s
