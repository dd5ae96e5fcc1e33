-- requires: 20260226120000_add_spend_log_tool_index
-- mode: read
-- returns: rows
-- LiteLLM_SpendLogToolIndex rows per UTC day before the cutoff: LiteLLM's cleanup deletes them on
-- the spend logs' cutoff, by their own start_time.
SELECT t.start_time::date AS day, count(*)::bigint AS rows
FROM "LiteLLM_SpendLogToolIndex" t
WHERE t.start_time < %(cutoff)s
GROUP BY 1
ORDER BY 1
