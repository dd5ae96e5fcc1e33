-- requires: 20260921190000_agent_identity
-- mode: write
-- returns: row
-- Move the staged chunk into LiteLLM_SpendLogs, idempotent by request_id: a request already there
-- (an earlier run, the proxy) is skipped, and also left out of the staging table, so what stays there
-- is exactly the rows this statement inserted, the only ones whose spend the next statements add.
-- NOT EXISTS keeps this true on a partitioned SpendLogs (its key includes "startTime"); ON CONFLICT
-- DO NOTHING covers a proxy inserting the same request meanwhile. Returns the counts and spend.
WITH inserted AS (
    INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens, "startTime", "endTime", "completionStartTime", model, model_id, model_group, custom_llm_provider, api_base, "user", metadata, cache_hit, cache_key, request_tags, team_id, end_user, requester_ip_address, messages, response, proxy_server_request, session_id, status, mcp_namespaced_tool_name, organization_id, agent_id, request_duration_ms, litellm_call_id, billing_agent_id)
    SELECT s.request_id, s.call_type, s.api_key, s.spend, s.total_tokens, s.prompt_tokens, s.completion_tokens, s."startTime", s."endTime", s."completionStartTime", s.model, s.model_id, s.model_group, s.custom_llm_provider, s.api_base, s."user", s.metadata, s.cache_hit, s.cache_key, s.request_tags, s.team_id, s.end_user, s.requester_ip_address, s.messages, s.response, s.proxy_server_request, s.session_id, s.status, s.mcp_namespaced_tool_name, s.organization_id, s.agent_id, s.request_duration_ms, s.litellm_call_id, s.billing_agent_id
    FROM "dbctl_spend_ingest" AS s
    WHERE NOT EXISTS (SELECT 1 FROM "LiteLLM_SpendLogs" AS l WHERE l.request_id = s.request_id)
    ON CONFLICT DO NOTHING
    RETURNING request_id, spend
),
skipped AS (
    DELETE FROM "dbctl_spend_ingest" AS s
    WHERE NOT EXISTS (SELECT 1 FROM inserted AS i WHERE i.request_id = s.request_id)
    RETURNING s.request_id
)
SELECT (SELECT count(*) FROM inserted) AS inserted, (SELECT count(*) FROM skipped) AS present,
       (SELECT coalesce(sum(spend), 0) FROM inserted) AS spend
