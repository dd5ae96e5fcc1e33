-- requires: 20260915000000_add_daily_response_time
-- mode: read
-- returns: rows
-- The rows of ONE daily table (%(daily_table)s: user, team, org, end_user, agent, tag) for whole UTC days,
-- filtered, with each key's alias and key_name beside its hash. The entity column is entity_id whatever
-- the table calls it. `spend export` streams it as CSV or JSON lines with sqlfiles.copy_out.
SELECT d.*, k.key_alias, k.key_name
FROM (
    SELECT 'user' AS entity_type, user_id AS entity_id,
           date, api_key, model, model_group, custom_llm_provider, mcp_namespaced_tool_name, endpoint,
           prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, spend,
           api_requests, successful_requests, failed_requests, total_response_time_ms, timed_requests
    FROM "LiteLLM_DailyUserSpend" WHERE %(daily_table)s = 'user'
    UNION ALL
    SELECT 'team' AS entity_type, team_id AS entity_id,
           date, api_key, model, model_group, custom_llm_provider, mcp_namespaced_tool_name, endpoint,
           prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, spend,
           api_requests, successful_requests, failed_requests, total_response_time_ms, timed_requests
    FROM "LiteLLM_DailyTeamSpend" WHERE %(daily_table)s = 'team' AND api_key <> '__ptu_flat_cost__'
    UNION ALL
    SELECT 'org' AS entity_type, organization_id AS entity_id,
           date, api_key, model, model_group, custom_llm_provider, mcp_namespaced_tool_name, endpoint,
           prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, spend,
           api_requests, successful_requests, failed_requests, total_response_time_ms, timed_requests
    FROM "LiteLLM_DailyOrganizationSpend" WHERE %(daily_table)s = 'org'
    UNION ALL
    SELECT 'end_user' AS entity_type, end_user_id AS entity_id,
           date, api_key, model, model_group, custom_llm_provider, mcp_namespaced_tool_name, endpoint,
           prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, spend,
           api_requests, successful_requests, failed_requests, total_response_time_ms, timed_requests
    FROM "LiteLLM_DailyEndUserSpend" WHERE %(daily_table)s = 'end_user'
    UNION ALL
    SELECT 'agent' AS entity_type, agent_id AS entity_id,
           date, api_key, model, model_group, custom_llm_provider, mcp_namespaced_tool_name, endpoint,
           prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, spend,
           api_requests, successful_requests, failed_requests, total_response_time_ms, timed_requests
    FROM "LiteLLM_DailyAgentSpend" WHERE %(daily_table)s = 'agent'
    UNION ALL
    SELECT 'tag' AS entity_type, tag AS entity_id,
           date, api_key, model, model_group, custom_llm_provider, mcp_namespaced_tool_name, endpoint,
           prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, spend,
           api_requests, successful_requests, failed_requests, total_response_time_ms, timed_requests
    FROM "LiteLLM_DailyTagSpend" WHERE %(daily_table)s = 'tag'
) AS d
LEFT JOIN "LiteLLM_VerificationToken" AS k ON k.token = d.api_key
WHERE d.date >= %(first_day)s AND d.date <= %(last_day)s
  AND (%(keys)s::text[] IS NULL OR d.api_key = ANY(%(keys)s::text[]))
  AND (%(models)s::text[] IS NULL OR COALESCE(d.model, '') = ANY(%(models)s::text[]))
  AND (%(providers)s::text[] IS NULL OR COALESCE(d.custom_llm_provider, '') = ANY(%(providers)s::text[]))
  AND (%(entities)s::text[] IS NULL OR COALESCE(d.entity_id, '') = ANY(%(entities)s::text[]))
