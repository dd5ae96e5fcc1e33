-- requires: none
-- mode: write
-- returns: none
-- dbctl's staging table for `spend ingest` (not a LiteLLM table): each chunk is COPYed here, then
-- moved into LiteLLM_SpendLogs by one set-based statement. Unlogged (it is empty between chunks:
-- every chunk truncates it first, and only the holder of the `spend-ingest` lock writes it), with
-- the spend-log columns ingest writes (as LiteLLM_SpendLogs types them) plus the outbox delivery a
-- chunk writes on LiteLLM 1.110.
CREATE UNLOGGED TABLE IF NOT EXISTS "dbctl_spend_ingest" (
    request_id TEXT NOT NULL, call_type TEXT NOT NULL, api_key TEXT NOT NULL, spend DOUBLE PRECISION NOT NULL,
    total_tokens INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    "startTime" TIMESTAMP(3) NOT NULL, "endTime" TIMESTAMP(3) NOT NULL, "completionStartTime" TIMESTAMP(3),
    model TEXT NOT NULL, model_id TEXT, model_group TEXT, custom_llm_provider TEXT, api_base TEXT, "user" TEXT,
    metadata JSONB, cache_hit TEXT, cache_key TEXT, request_tags JSONB, team_id TEXT, end_user TEXT,
    requester_ip_address TEXT, messages JSONB, response JSONB, proxy_server_request JSONB, session_id TEXT,
    status TEXT, mcp_namespaced_tool_name TEXT, organization_id TEXT, agent_id TEXT, request_duration_ms INTEGER,
    litellm_call_id TEXT, billing_agent_id TEXT, delivery_id TEXT, accounting_payload JSONB
)
