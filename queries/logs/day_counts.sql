-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Spend logs per UTC day before the cutoff ("startTime" holds UTC without a zone): what a prune
-- deletes, day by day, and its progress total. Reads the "startTime" index, not the rows.
SELECT s."startTime"::date AS day, count(*)::bigint AS rows
FROM "LiteLLM_SpendLogs" s
WHERE s."startTime" < %(cutoff)s
GROUP BY 1
ORDER BY 1
