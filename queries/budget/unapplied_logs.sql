-- requires: 20250326162113_baseline
-- mode: read
-- returns: row
-- On LiteLLM 1.110's spend-log outbox: the spend logs whose delivery is not applied yet (pending:
-- the worker has yet to add them to the counters; parked: it gave up), which counter repair
-- leaves out.
SELECT count(DISTINCT sl.request_id) FILTER (WHERE d.state = 'pending') AS pending,
       count(DISTINCT sl.request_id) FILTER (WHERE d.state = 'parked') AS parked
FROM "LiteLLM_SpendLogs" AS sl
JOIN "LiteLLM_SpendLogDelivery" AS d ON d.request_id = sl.request_id
WHERE d.state IN ('pending', 'parked')
