-- requires: 20250326162113_baseline
-- mode: read
-- returns: value
-- When LiteLLM_SpendLogs begins (its oldest startTime; NULL when empty). Counter repair trusts the
-- logs only for windows that start after this: older logs may have been pruned by retention.
SELECT min("startTime") FROM "LiteLLM_SpendLogs"
