-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Every column of the spend logs of [%(since)s, %(until)s) (one UTC day), in startTime order: streamed into
-- the day's archive file by COPY (sqlfiles.copy_out), so memory stays flat at any size.
SELECT *
FROM "LiteLLM_SpendLogs" AS l
WHERE l."startTime" >= %(since)s AND l."startTime" < %(until)s
ORDER BY l."startTime", l.request_id
