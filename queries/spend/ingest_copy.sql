-- requires: 20260921190000_agent_identity
-- mode: write
-- returns: none
-- One chunk of ingested spend logs into the staging table (payloads.COLUMNS, in this order).
COPY "dbctl_spend_ingest" (request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens, "startTime", "endTime", "completionStartTime", model, model_id, model_group, custom_llm_provider, api_base, "user", metadata, cache_hit, cache_key, request_tags, team_id, end_user, requester_ip_address, messages, response, proxy_server_request, session_id, status, mcp_namespaced_tool_name, organization_id, agent_id, request_duration_ms, litellm_call_id, billing_agent_id, delivery_id, accounting_payload) FROM STDIN
