-- requires: 20251210205007_add_daily_agent_spend_table
-- mode: write
-- returns: rowcount
-- identifiers: LiteLLM_DailyUserSpend
-- Delete orphan daily rows (no spend log derives them), each only if it is the row version the diff
-- read (same xmin): a row a proxy incremented since is no orphan, and is kept. Returns how many were
-- deleted. {LiteLLM_DailyUserSpend} stands for any of the six daily tables.
DELETE FROM {LiteLLM_DailyUserSpend} AS d
USING unnest(%(ids)s::text[], %(row_xmins)s::text[]) AS x(id, row_xmin)
WHERE d.id = x.id AND xmin = x.row_xmin::xid
