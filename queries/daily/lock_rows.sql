-- requires: 20260106155622_add_endpoint_to_daily_activity_tables
-- mode: write
-- returns: value
-- identifiers: LiteLLM_DailyUserSpend, user_id
-- Lock the daily rows a reconcile is about to change, in the order LiteLLM's writer locks them
-- (its key with '' for NULL, compared as Python compares strings: C collation), so a late proxy
-- flush waits instead of deadlocking. {LiteLLM_DailyUserSpend} stands for any of the six daily
-- tables and {user_id} for its entity column. Returns how many rows it locked.
SELECT count(*)
FROM (
    SELECT 1
    FROM {LiteLLM_DailyUserSpend} AS d
    WHERE d.id = ANY(%(ids)s::text[])
    ORDER BY coalesce(d.{user_id}, '') COLLATE "C", d.date COLLATE "C", d.api_key COLLATE "C",
             coalesce(d.model, '') COLLATE "C", coalesce(d.custom_llm_provider, '') COLLATE "C",
             coalesce(d.endpoint, '') COLLATE "C", coalesce(d.mcp_namespaced_tool_name, '') COLLATE "C"
    FOR UPDATE
) AS locked
