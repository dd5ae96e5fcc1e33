-- requires: 20260226120000_add_spend_log_tool_index
-- mode: write
-- returns: row
-- One batch of LiteLLM_SpendLogToolIndex rows of [since, until) by start_time, as LiteLLM's cleanup
-- deletes them with the spend logs (by their own time, not by a join: rows whose log is already gone
-- go too), walking the start_time index in (start_time, request_id, tool_name) order.
WITH doomed AS (
    SELECT t.request_id, t.tool_name, t.start_time
    FROM "LiteLLM_SpendLogToolIndex" t
    WHERE t.start_time >= %(since)s AND t.start_time < %(until)s
      AND t.start_time >= %(after_time)s
    ORDER BY t.start_time
    LIMIT %(batch)s
), gone AS (
    DELETE FROM "LiteLLM_SpendLogToolIndex" d
    USING doomed
    WHERE d.request_id = doomed.request_id AND d.tool_name = doomed.tool_name
    RETURNING d.request_id
)
SELECT (SELECT count(*) FROM gone)::bigint AS affected,
       (SELECT count(*) FROM doomed)::bigint AS scanned,
       (SELECT max(doomed.start_time) FROM doomed) AS last_time,
       ''::text AS last_id
