-- requires: none
-- mode: write
-- returns: rows
-- Hand deliveries back to LiteLLM 1.110's worker in the shape its own failure path leaves a row it
-- will retry (AccountingDeliveryRepository._FAILED with state 'pending'): state pending, attempts
-- > 0 so its retry pass takes the row alone (never inside a fresh batch it could roll back),
-- next_attempt_at LOCALTIMESTAMP (due at once: the worker's claim compares it with CURRENT_TIMESTAMP
-- in the same server time zone, as its own writes do), applied_at NULL, last_error kept until the next attempt
-- clears or replaces it. A parked row restarts at attempts 1 (four more isolated attempts before
-- the worker parks it again); a pending one keeps its count and only stops waiting.
UPDATE "LiteLLM_SpendLogDelivery"
SET attempts = CASE WHEN state = 'parked' THEN 1 ELSE attempts END,
    state = 'pending', next_attempt_at = LOCALTIMESTAMP, applied_at = NULL
WHERE delivery_id = ANY(%(delivery_ids)s::text[])
  AND (state = 'parked' OR (state = 'pending' AND attempts > 0))
RETURNING delivery_id, attempts, next_attempt_at
