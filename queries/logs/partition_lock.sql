-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- The swap's lock: no write reaches either table until it commits (taken under a short lock_timeout).
LOCK TABLE "LiteLLM_SpendLogs", "LiteLLM_SpendLogs_new" IN ACCESS EXCLUSIVE MODE
