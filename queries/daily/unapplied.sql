-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- On LiteLLM 1.110's spend-log outbox: the requests of the UTC days [since, until) whose delivery
-- is not applied yet, by state (pending: the worker has yet to add them to the daily tables;
-- parked: it gave up, `dbctl accounting retry`), which daily/diff leaves out.
SELECT d.state::text AS state, count(DISTINCT sl.request_id) AS requests
FROM "LiteLLM_SpendLogs" AS sl
JOIN "LiteLLM_SpendLogDelivery" AS d ON d.request_id = sl.request_id
WHERE sl."startTime" >= %(since)s::date AND sl."startTime" < %(until)s::date
  AND d.state IN ('pending', 'parked')
GROUP BY d.state
