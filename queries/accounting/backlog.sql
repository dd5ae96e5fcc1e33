-- requires: none
-- mode: read
-- returns: row
-- Deliveries by state, and the oldest pending one's age in seconds, measured as LiteLLM's worker
-- measures its backlog (AccountingDeliveryRepository._BACKLOG): its raw SQL stores created_at as
-- CURRENT_TIMESTAMP, the session's local time, so the age is CURRENT_TIMESTAMP - created_at in the
-- same (server default) time zone. Run only where outbox_exists.
SELECT count(*) FILTER (WHERE state = 'pending') AS pending,
       count(*) FILTER (WHERE state = 'pending' AND attempts > 0) AS retrying,
       count(*) FILTER (WHERE state = 'parked') AS parked,
       count(*) FILTER (WHERE state = 'applied') AS applied,
       COALESCE(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP
                        - min(created_at) FILTER (WHERE state = 'pending')), 0)::float8 AS oldest_pending_seconds,
       min(created_at) FILTER (WHERE state = 'pending') AS oldest_pending_at
FROM "LiteLLM_SpendLogDelivery"
