-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- identifiers: partition, parent
-- The DEFAULT partition of LiteLLM's runbook: a row no range partition covers still lands somewhere
-- (LiteLLM never drops it; its retention deletes the expired rows in it row by row).
CREATE TABLE IF NOT EXISTS {partition} PARTITION OF {parent} DEFAULT
