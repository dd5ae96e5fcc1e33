-- requires: 20260915000000_add_daily_response_time
-- mode: write
-- returns: rows
-- identifiers: LiteLLM_DailyUserSpend
-- variant: LiteLLM_DailyUserSpend
-- variant: LiteLLM_DailyTeamSpend
-- variant: LiteLLM_DailyOrganizationSpend
-- variant: LiteLLM_DailyEndUserSpend
-- variant: LiteLLM_DailyAgentSpend
-- variant: LiteLLM_DailyTagSpend
-- Delete orphan daily rows (no spend log derives them), each only if it still holds the counters the
-- diff read: a row a proxy incremented since is no orphan any more, and is kept. Returns the rows
-- deleted, with their spend. {LiteLLM_DailyUserSpend} stands for any of the six daily tables.
DELETE FROM {LiteLLM_DailyUserSpend} AS d
USING unnest(%(ids)s::text[], %(prompt_tokens)s::bigint[], %(completion_tokens)s::bigint[],
             %(cache_read_input_tokens)s::bigint[], %(cache_creation_input_tokens)s::bigint[],
             %(compression_saved_tokens)s::bigint[], %(api_requests)s::bigint[],
             %(successful_requests)s::bigint[], %(failed_requests)s::bigint[],
             %(total_response_time_ms)s::bigint[], %(timed_requests)s::bigint[],
             %(spend)s::double precision[])
      AS x(id, prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens,
           compression_saved_tokens, api_requests, successful_requests, failed_requests,
           total_response_time_ms, timed_requests, spend)
WHERE d.id = x.id
  AND (d.prompt_tokens, d.completion_tokens, d.cache_read_input_tokens, d.cache_creation_input_tokens,
       d.compression_saved_tokens, d.api_requests, d.successful_requests, d.failed_requests,
       d.total_response_time_ms, d.timed_requests)
      = (x.prompt_tokens, x.completion_tokens, x.cache_read_input_tokens, x.cache_creation_input_tokens,
         x.compression_saved_tokens, x.api_requests, x.successful_requests, x.failed_requests,
         x.total_response_time_ms, x.timed_requests)
  AND abs(d.spend - x.spend) <= 1e-9 * greatest(1.0, abs(x.spend))
RETURNING d.id, d.spend
