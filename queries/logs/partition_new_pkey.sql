-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- The staging table's primary key: the partition key must be part of it, so ("request_id", "startTime")
-- (LiteLLM's runbook); renamed LiteLLM_SpendLogs_pkey at the swap.
ALTER TABLE "LiteLLM_SpendLogs_new" ADD CONSTRAINT "LiteLLM_SpendLogs_new_pkey" PRIMARY KEY ("request_id", "startTime")
