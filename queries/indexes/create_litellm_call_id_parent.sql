-- requires: 20260831120000_add_litellm_call_id_spend_logs
-- mode: write
-- returns: none
-- identifiers: index, table
-- The parent index of LiteLLM_SpendLogs_litellm_call_id_idx on a partitioned table (ON ONLY: a
-- catalog entry, valid once every partition's index is attached).
CREATE INDEX IF NOT EXISTS {index} ON ONLY {table} ("litellm_call_id")
