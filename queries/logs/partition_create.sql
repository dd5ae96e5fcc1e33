-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- identifiers: partition, parent
-- One range partition, as LiteLLM's partition manager creates it: FROM its first day TO the next
-- period's ('YYYY-MM-DD' literals, bound client-side: DDL takes no server-side parameters).
CREATE TABLE IF NOT EXISTS {partition} PARTITION OF {parent} FOR VALUES FROM (%(lower)s) TO (%(upper)s)
