-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- Plain VACUUM of the spend logs alone, on a database from before LiteLLM_SpendLogToolIndex.
VACUUM (ANALYZE) "LiteLLM_SpendLogs"
