-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Rows of LiteLLM_SpendLogs per %(unit)s ('month' or 'day') from %(since)s on, counted (`logs size
-- --exact`: a scan of the rows since then).
SELECT date_trunc(%(unit)s, l."startTime") AS bucket, count(*)::float8 AS rows
FROM "LiteLLM_SpendLogs" AS l
WHERE l."startTime" >= %(since)s
GROUP BY 1
ORDER BY 1
