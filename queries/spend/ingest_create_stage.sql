-- requires: 20260921190000_agent_identity
-- mode: write
-- returns: none
-- dbctl's staging table for `spend ingest` (not a LiteLLM table): each chunk is COPYed here, then
-- moved into LiteLLM_SpendLogs by one set-based statement. Unlogged (it is empty between chunks:
-- every chunk truncates it first, and only the holder of the `spend-ingest` lock writes it), with
-- the spend-log columns plus the outbox delivery a chunk writes on LiteLLM 1.110.
CREATE UNLOGGED TABLE IF NOT EXISTS "dbctl_spend_ingest" (
    LIKE "LiteLLM_SpendLogs" INCLUDING DEFAULTS,
    delivery_id TEXT,
    accounting_payload JSONB
)
