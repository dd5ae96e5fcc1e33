-- requires: none
-- mode: read
-- returns: rows
-- The deliveries `accounting retry` hands back to LiteLLM's worker, row-locked (the session's
-- short lock_timeout bounds a wait on a worker's claim): parked ones, and unless %(parked_only)s
-- pending ones waiting out a retry backoff (attempts > 0; fresh ones the worker takes anyway);
-- narrowed to one request and/or to those created more than %(older_than)s seconds ago (created_at
-- is the session's local time, as LiteLLM's raw SQL writes it: compared with LOCALTIMESTAMP).
SELECT delivery_id, request_id, state::text AS state, attempts, next_attempt_at, last_error, created_at
FROM "LiteLLM_SpendLogDelivery"
WHERE (state = 'parked' OR (NOT %(parked_only)s::boolean AND state = 'pending' AND attempts > 0))
  AND (%(request_id)s::text IS NULL OR request_id = %(request_id)s::text)
  AND (%(older_than)s::float8 IS NULL OR created_at < LOCALTIMESTAMP - make_interval(secs => %(older_than)s::float8))
ORDER BY created_at, delivery_id
FOR UPDATE
