-- requires: 20260831120000_add_litellm_call_id_spend_logs
-- mode: read
-- returns: none
-- Spend-log rows of a period as CSV with a header, straight from the server (COPY TO STDOUT): the
-- fastest export, constant memory. Times are UTC; messages and responses are not exported.
COPY (
    SELECT l.request_id, l.litellm_call_id, l.call_type, l."startTime" AS start_time, l."endTime" AS end_time,
           l."completionStartTime" AS completion_start_time, l.request_duration_ms, l.api_key, l."user",
           l.team_id, l.organization_id, l.end_user, l.agent_id, l.model, l.model_id, l.model_group,
           l.custom_llm_provider, l.api_base, l.spend, l.prompt_tokens, l.completion_tokens, l.total_tokens,
           l.status, l.cache_hit, l.request_tags, l.session_id, l.mcp_namespaced_tool_name,
           l.requester_ip_address, l.metadata
    FROM "LiteLLM_SpendLogs" AS l
    WHERE l."startTime" >= %(since)s AND l."startTime" < %(until)s
      AND (%(keys)s::text[] IS NULL OR l.api_key = ANY(%(keys)s::text[]))
      AND (%(users)s::text[] IS NULL OR COALESCE(l."user", '') = ANY(%(users)s::text[]))
      AND (%(teams)s::text[] IS NULL OR COALESCE(l.team_id, '') = ANY(%(teams)s::text[]))
      AND (%(orgs)s::text[] IS NULL OR COALESCE(l.organization_id, '') = ANY(%(orgs)s::text[]))
      AND (%(end_users)s::text[] IS NULL OR COALESCE(l.end_user, '') = ANY(%(end_users)s::text[]))
      AND (%(agents)s::text[] IS NULL OR COALESCE(l.agent_id, '') = ANY(%(agents)s::text[]))
      AND (%(models)s::text[] IS NULL OR l.model = ANY(%(models)s::text[]))
      AND (%(providers)s::text[] IS NULL OR COALESCE(l.custom_llm_provider, '') = ANY(%(providers)s::text[]))
      AND (%(tags)s::text[] IS NULL OR (jsonb_typeof(l.request_tags) = 'array' AND l.request_tags ?| %(tags)s::text[]))
) TO STDOUT WITH (FORMAT csv, HEADER)
