-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Rows of LiteLLM_SpendLogs per %(unit)s ('month' or 'day') from %(since)s on, estimated from a block
-- sample (TABLESAMPLE SYSTEM of %(percent)s percent of the pages, repeatable): what `logs size` falls
-- back to when the planner has no statistics yet. Rows arrive in startTime order, so a sampled page
-- holds rows of one moment; enough pages make the shares per month close.
SELECT date_trunc(%(unit)s, l."startTime") AS bucket, (count(*) * 100.0 / %(percent)s)::float8 AS rows
FROM "LiteLLM_SpendLogs" AS l TABLESAMPLE SYSTEM (%(percent)s) REPEATABLE (20)
WHERE l."startTime" >= %(since)s
GROUP BY 1
ORDER BY 1
