-- requires: 20260915000000_add_daily_response_time
-- mode: write
-- returns: value
-- identifiers: stage
-- variant: dbctl_spend_ingest
-- The six daily tables incremented by exactly the staged rows (the spend logs ingest_insert just
-- inserted), by the derivation daily/diff recomputes them with (the same fragments: LiteLLM's rules,
-- litellm-database.md §1.2-1.4 and §1.9), and LiteLLM's own upsert: a key's row gets the chunk's
-- counters added (`col = col + EXCLUDED.col`), a missing one is inserted with the first writer's
-- model_group (earliest "endTime"); the tag row's request_id is a contributing request's. Rows are
-- written in LiteLLM's key order, so a proxy flushing the same keys waits rather than deadlocks.
-- Parameters as daily/diff's (%(litellm_1110)s, %(first_writer)s true, %(tables)s the six).
-- {stage} is the staging table. Returns the number of daily rows written (inserted or added to).
WITH endpoint_map (call_type, endpoint) AS (
    -- include: daily/fragments/endpoint_map
),
request AS (
    -- include: daily/fragments/request_columns
    FROM {stage} AS sl
    -- include: daily/fragments/request_joins
    WHERE true
      -- include: daily/fragments/request_aggregable
    OFFSET 0
),
entry AS (
    -- include: daily/fragments/request_entries
),
keyed AS (
    SELECT e.daily, e.entity_id, e.date, e.api_key, e.model, e.custom_llm_provider, e.mcp_namespaced_tool_name,
           e.endpoint, sum(e.prompt_tokens)::bigint AS prompt_tokens, sum(e.completion_tokens)::bigint AS completion_tokens, sum(e.cache_read_input_tokens)::bigint AS cache_read_input_tokens, sum(e.cache_creation_input_tokens)::bigint AS cache_creation_input_tokens, sum(e.compression_saved_tokens)::bigint AS compression_saved_tokens, sum(e.api_requests)::bigint AS api_requests, sum(e.successful_requests)::bigint AS successful_requests, sum(e.failed_requests)::bigint AS failed_requests, sum(e.total_response_time_ms)::bigint AS total_response_time_ms, sum(e.timed_requests)::bigint AS timed_requests,
           sum(e.spend) AS spend, min(e.writer COLLATE "C") AS writer
    FROM entry AS e
    GROUP BY e.daily, e.entity_id, e.date, e.api_key, e.model, e.custom_llm_provider, e.mcp_namespaced_tool_name,
             e.endpoint
),
user_rows AS (
    INSERT INTO "LiteLLM_DailyUserSpend" AS d (id, user_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name,
        endpoint, model_group, prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, compression_saved_tokens, api_requests, successful_requests, failed_requests, total_response_time_ms, timed_requests, spend, updated_at)
    SELECT gen_random_uuid()::text, k.entity_id, k.date, k.api_key, k.model, k.custom_llm_provider,
           k.mcp_namespaced_tool_name, k.endpoint, k.writer[3], k.prompt_tokens, k.completion_tokens, k.cache_read_input_tokens, k.cache_creation_input_tokens, k.compression_saved_tokens, k.api_requests, k.successful_requests, k.failed_requests, k.total_response_time_ms, k.timed_requests, k.spend,
           now() AT TIME ZONE 'UTC'
    FROM keyed AS k
    WHERE k.daily = 'user'
    ORDER BY k.entity_id, k.date, k.api_key, k.model, k.custom_llm_provider, k.mcp_namespaced_tool_name, k.endpoint
    ON CONFLICT (user_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint) DO UPDATE SET
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
    RETURNING 1
),
team_rows AS (
    INSERT INTO "LiteLLM_DailyTeamSpend" AS d (id, team_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name,
        endpoint, model_group, prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, compression_saved_tokens, api_requests, successful_requests, failed_requests, total_response_time_ms, timed_requests, spend, updated_at)
    SELECT gen_random_uuid()::text, k.entity_id, k.date, k.api_key, k.model, k.custom_llm_provider,
           k.mcp_namespaced_tool_name, k.endpoint, k.writer[3], k.prompt_tokens, k.completion_tokens, k.cache_read_input_tokens, k.cache_creation_input_tokens, k.compression_saved_tokens, k.api_requests, k.successful_requests, k.failed_requests, k.total_response_time_ms, k.timed_requests, k.spend,
           now() AT TIME ZONE 'UTC'
    FROM keyed AS k
    WHERE k.daily = 'team'
    ORDER BY k.entity_id, k.date, k.api_key, k.model, k.custom_llm_provider, k.mcp_namespaced_tool_name, k.endpoint
    ON CONFLICT (team_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint) DO UPDATE SET
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
    RETURNING 1
),
org_rows AS (
    INSERT INTO "LiteLLM_DailyOrganizationSpend" AS d (id, organization_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name,
        endpoint, model_group, prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, compression_saved_tokens, api_requests, successful_requests, failed_requests, total_response_time_ms, timed_requests, spend, updated_at)
    SELECT gen_random_uuid()::text, k.entity_id, k.date, k.api_key, k.model, k.custom_llm_provider,
           k.mcp_namespaced_tool_name, k.endpoint, k.writer[3], k.prompt_tokens, k.completion_tokens, k.cache_read_input_tokens, k.cache_creation_input_tokens, k.compression_saved_tokens, k.api_requests, k.successful_requests, k.failed_requests, k.total_response_time_ms, k.timed_requests, k.spend,
           now() AT TIME ZONE 'UTC'
    FROM keyed AS k
    WHERE k.daily = 'org'
    ORDER BY k.entity_id, k.date, k.api_key, k.model, k.custom_llm_provider, k.mcp_namespaced_tool_name, k.endpoint
    ON CONFLICT (organization_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint) DO UPDATE SET
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
    RETURNING 1
),
end_user_rows AS (
    INSERT INTO "LiteLLM_DailyEndUserSpend" AS d (id, end_user_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name,
        endpoint, model_group, prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, compression_saved_tokens, api_requests, successful_requests, failed_requests, total_response_time_ms, timed_requests, spend, updated_at)
    SELECT gen_random_uuid()::text, k.entity_id, k.date, k.api_key, k.model, k.custom_llm_provider,
           k.mcp_namespaced_tool_name, k.endpoint, k.writer[3], k.prompt_tokens, k.completion_tokens, k.cache_read_input_tokens, k.cache_creation_input_tokens, k.compression_saved_tokens, k.api_requests, k.successful_requests, k.failed_requests, k.total_response_time_ms, k.timed_requests, k.spend,
           now() AT TIME ZONE 'UTC'
    FROM keyed AS k
    WHERE k.daily = 'end_user'
    ORDER BY k.entity_id, k.date, k.api_key, k.model, k.custom_llm_provider, k.mcp_namespaced_tool_name, k.endpoint
    ON CONFLICT (end_user_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint) DO UPDATE SET
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
    RETURNING 1
),
agent_rows AS (
    INSERT INTO "LiteLLM_DailyAgentSpend" AS d (id, agent_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name,
        endpoint, model_group, prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, compression_saved_tokens, api_requests, successful_requests, failed_requests, total_response_time_ms, timed_requests, spend, updated_at)
    SELECT gen_random_uuid()::text, k.entity_id, k.date, k.api_key, k.model, k.custom_llm_provider,
           k.mcp_namespaced_tool_name, k.endpoint, k.writer[3], k.prompt_tokens, k.completion_tokens, k.cache_read_input_tokens, k.cache_creation_input_tokens, k.compression_saved_tokens, k.api_requests, k.successful_requests, k.failed_requests, k.total_response_time_ms, k.timed_requests, k.spend,
           now() AT TIME ZONE 'UTC'
    FROM keyed AS k
    WHERE k.daily = 'agent'
    ORDER BY k.entity_id, k.date, k.api_key, k.model, k.custom_llm_provider, k.mcp_namespaced_tool_name, k.endpoint
    ON CONFLICT (agent_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint) DO UPDATE SET
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
    RETURNING 1
),
tag_rows AS (
    INSERT INTO "LiteLLM_DailyTagSpend" AS d (id, tag, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name,
        endpoint, model_group, prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, compression_saved_tokens, api_requests, successful_requests, failed_requests, total_response_time_ms, timed_requests, spend, request_id, updated_at)
    SELECT gen_random_uuid()::text, k.entity_id, k.date, k.api_key, k.model, k.custom_llm_provider,
           k.mcp_namespaced_tool_name, k.endpoint, k.writer[3], k.prompt_tokens, k.completion_tokens, k.cache_read_input_tokens, k.cache_creation_input_tokens, k.compression_saved_tokens, k.api_requests, k.successful_requests, k.failed_requests, k.total_response_time_ms, k.timed_requests, k.spend, k.writer[2],
           now() AT TIME ZONE 'UTC'
    FROM keyed AS k
    WHERE k.daily = 'tag'
    ORDER BY k.entity_id, k.date, k.api_key, k.model, k.custom_llm_provider, k.mcp_namespaced_tool_name, k.endpoint
    ON CONFLICT (tag, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint) DO UPDATE SET
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
        updated_at = EXCLUDED.updated_at,
        request_id = coalesce(EXCLUDED.request_id, d.request_id)
    RETURNING 1
)
SELECT (SELECT count(*) FROM user_rows) + (SELECT count(*) FROM team_rows) + (SELECT count(*) FROM org_rows)
       + (SELECT count(*) FROM end_user_rows) + (SELECT count(*) FROM agent_rows) + (SELECT count(*) FROM tag_rows)
