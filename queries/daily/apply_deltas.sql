-- requires: 20260915000000_add_daily_response_time
-- mode: write
-- returns: rowcount
-- identifiers: LiteLLM_DailyUserSpend
-- variant: LiteLLM_DailyUserSpend
-- variant: LiteLLM_DailyTeamSpend
-- variant: LiteLLM_DailyOrganizationSpend
-- variant: LiteLLM_DailyEndUserSpend
-- variant: LiteLLM_DailyAgentSpend
-- variant: LiteLLM_DailyTagSpend
-- Add (recomputed - stored as read) to each counter of existing daily rows, by id. Increments, not
-- absolute values: a proxy increment that lands between the diff and this statement is kept on
-- top. A row deleted meanwhile is left alone (the rowcount says how many were found). Savings
-- columns, model_group and request_id are not touched. {LiteLLM_DailyUserSpend} stands for any of
-- the six daily tables.
UPDATE {LiteLLM_DailyUserSpend} AS d
SET prompt_tokens = d.prompt_tokens + x.prompt_tokens,
    completion_tokens = d.completion_tokens + x.completion_tokens,
    cache_read_input_tokens = d.cache_read_input_tokens + x.cache_read_input_tokens,
    cache_creation_input_tokens = d.cache_creation_input_tokens + x.cache_creation_input_tokens,
    compression_saved_tokens = d.compression_saved_tokens + x.compression_saved_tokens,
    api_requests = d.api_requests + x.api_requests,
    successful_requests = d.successful_requests + x.successful_requests,
    failed_requests = d.failed_requests + x.failed_requests,
    total_response_time_ms = d.total_response_time_ms + x.total_response_time_ms,
    timed_requests = d.timed_requests + x.timed_requests,
    spend = d.spend + x.spend,
    updated_at = now() AT TIME ZONE 'UTC'
FROM unnest(%(ids)s::text[], %(prompt_tokens)s::bigint[], %(completion_tokens)s::bigint[],
            %(cache_read_input_tokens)s::bigint[], %(cache_creation_input_tokens)s::bigint[],
            %(compression_saved_tokens)s::bigint[], %(api_requests)s::bigint[],
            %(successful_requests)s::bigint[], %(failed_requests)s::bigint[],
            %(total_response_time_ms)s::bigint[], %(timed_requests)s::bigint[],
            %(spend)s::double precision[])
     AS x(id, prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens,
          compression_saved_tokens, api_requests, successful_requests, failed_requests,
          total_response_time_ms, timed_requests, spend)
WHERE d.id = x.id
