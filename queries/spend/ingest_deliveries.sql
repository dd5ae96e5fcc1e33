-- requires: 20260921190000_agent_identity
-- mode: write
-- returns: rowcount
-- On LiteLLM 1.110's spend-log outbox: one pending LiteLLM_SpendLogDelivery per staged row (the spend
-- logs ingest_insert just inserted), as SpendLogsRepository.insert_with_deliveries writes it
-- (litellm/repositories/table_repositories.py:166-172 in the 1.110.2 wheel): delivery_id, request_id,
-- the accounting payload dbctl built as build_accounting_payload does, is_batch for a settle-once
-- cost row. The proxy's worker applies it to the counters and daily tables, as for its own requests.
INSERT INTO "LiteLLM_SpendLogDelivery" (delivery_id, request_id, accounting_payload, is_batch)
SELECT s.delivery_id, s.request_id, s.accounting_payload, s.delivery_id = s.request_id
FROM "dbctl_spend_ingest" AS s
ORDER BY s.delivery_id
ON CONFLICT (delivery_id) DO NOTHING
