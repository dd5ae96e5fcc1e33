-- requires: 20250326162113_baseline
-- mode: read
-- returns: row
-- The oldest and newest "startTime" of the plain LiteLLM_SpendLogs (its "startTime" index answers
-- both) and the planner's row estimate: NULL when the table has never been analyzed (reltuples -1).
SELECT min("startTime") AS first, max("startTime") AS last,
       (SELECT nullif(c.reltuples, -1)::bigint FROM pg_class c
        WHERE c.oid = '"LiteLLM_SpendLogs"'::regclass) AS estimate
FROM "LiteLLM_SpendLogs"
