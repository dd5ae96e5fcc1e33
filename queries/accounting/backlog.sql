-- requires: none
-- mode: read
-- returns: row
-- Deliveries by state, and the oldest pending one's age in seconds (since created_at, as LiteLLM's
-- worker measures its backlog; timestamps are UTC TIMESTAMP(3)). Run only where outbox_exists.
SELECT count(*) FILTER (WHERE state = 'pending') AS pending,
       count(*) FILTER (WHERE state = 'pending' AND attempts > 0) AS retrying,
       count(*) FILTER (WHERE state = 'parked') AS parked,
       count(*) FILTER (WHERE state = 'applied') AS applied,
       COALESCE(EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC')
                        - min(created_at) FILTER (WHERE state = 'pending')), 0)::float8 AS oldest_pending_seconds,
       min(created_at) FILTER (WHERE state = 'pending') AS oldest_pending_at
FROM "LiteLLM_SpendLogDelivery"
