-- requires: 20250326162113_baseline
-- mode: read
-- returns: row
-- The oldest and newest "startTime" of the plain LiteLLM_SpendLogs (its "startTime" index answers
-- both) and the planner's row estimate.
SELECT min("startTime") AS first, max("startTime") AS last,
       (SELECT greatest(c.reltuples, 0)::bigint FROM pg_class c
        WHERE c.oid = '"LiteLLM_SpendLogs"'::regclass) AS estimate
FROM "LiteLLM_SpendLogs"
