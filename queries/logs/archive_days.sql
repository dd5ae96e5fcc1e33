-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- The UTC days of [%(since)s, %(until)s) that hold spend logs, found by skipping along the startTime
-- index (one probe per day, not a scan of the rows).
WITH RECURSIVE days AS (
    SELECT date_trunc('day', min(l."startTime")) AS day
    FROM "LiteLLM_SpendLogs" AS l
    WHERE l."startTime" >= %(since)s AND l."startTime" < %(until)s
    UNION ALL
    SELECT (SELECT date_trunc('day', min(l."startTime"))
            FROM "LiteLLM_SpendLogs" AS l
            WHERE l."startTime" >= d.day + interval '1 day' AND l."startTime" < %(until)s)
    FROM days AS d
    WHERE d.day IS NOT NULL
)
SELECT d.day::date AS day FROM days AS d WHERE d.day IS NOT NULL
