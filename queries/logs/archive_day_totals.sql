-- requires: 20250326162113_baseline
-- mode: read
-- returns: row
-- The spend logs of [%(since)s, %(until)s) (one UTC day): how many, their spend, the first and last
-- startTime. Read in the snapshot the day's file is written from, for its manifest entry.
SELECT count(*)::bigint AS rows, coalesce(sum(l.spend), 0)::float8 AS spend,
       min(l."startTime") AS first_start, max(l."startTime") AS last_start
FROM "LiteLLM_SpendLogs" AS l
WHERE l."startTime" >= %(since)s AND l."startTime" < %(until)s
