-- requires: none
-- mode: write
-- returns: none
-- identifiers: partition
-- Detach a spend-log partition whose whole range is before the prune cutoff (not CONCURRENTLY: it
-- runs in the transaction that drops it, under a short lock_timeout, retried).
ALTER TABLE "LiteLLM_SpendLogs" DETACH PARTITION {partition}
