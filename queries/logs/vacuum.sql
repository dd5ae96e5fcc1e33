-- requires: 20260226120000_add_spend_log_tool_index
-- mode: write
-- returns: none
-- Plain VACUUM (never FULL: it would lock the table) after a prune or scrub, so the dead tuples'
-- space is reused and the planner's statistics are fresh. Runs outside a transaction.
VACUUM (ANALYZE) "LiteLLM_SpendLogs", "LiteLLM_SpendLogToolIndex"
