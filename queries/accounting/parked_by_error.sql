-- requires: none
-- mode: read
-- returns: rows
-- Parked deliveries grouped by last_error (the exception's class name the worker recorded), the
-- largest group first, with its time span and one request id to start looking from.
SELECT COALESCE(last_error, '') AS last_error, count(*) AS deliveries,
       min(created_at) AS first_created_at, max(created_at) AS last_created_at,
       min(request_id) AS example_request_id
FROM "LiteLLM_SpendLogDelivery"
WHERE state = 'parked'
GROUP BY COALESCE(last_error, '')
ORDER BY count(*) DESC, 1
