-- requires: 20260915000000_add_daily_response_time
-- mode: write
-- returns: rowcount
-- identifiers: LiteLLM_DailyUserSpend, user_id
-- variant: LiteLLM_DailyUserSpend, user_id
-- variant: LiteLLM_DailyTeamSpend, team_id
-- variant: LiteLLM_DailyOrganizationSpend, organization_id
-- variant: LiteLLM_DailyEndUserSpend, end_user_id
-- variant: LiteLLM_DailyAgentSpend, agent_id
-- variant: LiteLLM_DailyTagSpend, tag
-- Insert recomputed daily rows that are missing, in key order. A row a proxy inserted for the same
-- key since the diff gets the values added (LiteLLM's own upsert rule), so its increment is kept.
-- model_group is the first writer's. {LiteLLM_DailyUserSpend} stands for any of the six daily
-- tables and {user_id} for its entity column.
INSERT INTO {LiteLLM_DailyUserSpend} AS d (
    id, {user_id}, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint,
    model_group, prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens,
    compression_saved_tokens, api_requests, successful_requests, failed_requests, total_response_time_ms,
    timed_requests, spend, updated_at)
SELECT x.id, x.entity_id, x.date, x.api_key, x.model, x.custom_llm_provider, x.mcp_namespaced_tool_name,
       x.endpoint, x.model_group, x.prompt_tokens, x.completion_tokens, x.cache_read_input_tokens,
       x.cache_creation_input_tokens, x.compression_saved_tokens, x.api_requests, x.successful_requests,
       x.failed_requests, x.total_response_time_ms, x.timed_requests, x.spend, now() AT TIME ZONE 'UTC'
FROM unnest(%(ids)s::text[], %(entity_ids)s::text[], %(dates)s::text[], %(api_keys)s::text[],
            %(models)s::text[], %(custom_llm_providers)s::text[], %(mcp_namespaced_tool_names)s::text[],
            %(endpoints)s::text[], %(model_groups)s::text[], %(prompt_tokens)s::bigint[],
            %(completion_tokens)s::bigint[], %(cache_read_input_tokens)s::bigint[],
            %(cache_creation_input_tokens)s::bigint[], %(compression_saved_tokens)s::bigint[],
            %(api_requests)s::bigint[], %(successful_requests)s::bigint[], %(failed_requests)s::bigint[],
            %(total_response_time_ms)s::bigint[], %(timed_requests)s::bigint[],
            %(spend)s::double precision[]) WITH ORDINALITY
     AS x(id, entity_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint,
          model_group, prompt_tokens, completion_tokens, cache_read_input_tokens,
          cache_creation_input_tokens, compression_saved_tokens, api_requests, successful_requests,
          failed_requests, total_response_time_ms, timed_requests, spend, position)
ORDER BY x.position
ON CONFLICT ({user_id}, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint)
DO UPDATE SET
    prompt_tokens = d.prompt_tokens + EXCLUDED.prompt_tokens,
    completion_tokens = d.completion_tokens + EXCLUDED.completion_tokens,
    cache_read_input_tokens = d.cache_read_input_tokens + EXCLUDED.cache_read_input_tokens,
    cache_creation_input_tokens = d.cache_creation_input_tokens + EXCLUDED.cache_creation_input_tokens,
    compression_saved_tokens = d.compression_saved_tokens + EXCLUDED.compression_saved_tokens,
    api_requests = d.api_requests + EXCLUDED.api_requests,
    successful_requests = d.successful_requests + EXCLUDED.successful_requests,
    failed_requests = d.failed_requests + EXCLUDED.failed_requests,
    total_response_time_ms = d.total_response_time_ms + EXCLUDED.total_response_time_ms,
    timed_requests = d.timed_requests + EXCLUDED.timed_requests,
    spend = d.spend + EXCLUDED.spend,
    updated_at = EXCLUDED.updated_at
