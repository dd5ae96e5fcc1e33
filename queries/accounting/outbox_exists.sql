-- requires: none
-- mode: read
-- returns: value
-- Whether the database has LiteLLM 1.110's spend-log outbox (LiteLLM_SpendLogDelivery); older
-- releases apply spend straight to the counters and daily tables and have none.
SELECT to_regclass('"LiteLLM_SpendLogDelivery"') IS NOT NULL AS exists
