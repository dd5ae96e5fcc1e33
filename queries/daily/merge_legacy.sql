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
-- Merge legacy rows (a NULL key column, from LiteLLM versions before it wrote '') into one keeper
-- per key: the other rows are deleted and every counter and savings column they hold is added to
-- the keeper (current values, so increments that landed since the diff are kept), and the keeper's
-- NULL key columns become ''. `merged_ids[i]` is folded into `keeper_ids[i]`; a NULL merged id only
-- normalizes its keeper. {LiteLLM_DailyUserSpend} stands for any of the six daily tables and
-- {user_id} for its entity column. Returns the number of keepers updated.
WITH plan AS (
    SELECT p.keeper_id, p.merged_id
    FROM unnest(%(keeper_ids)s::text[], %(merged_ids)s::text[]) AS p(keeper_id, merged_id)
),
merged AS (
    DELETE FROM {LiteLLM_DailyUserSpend} AS d
    USING plan AS p
    WHERE d.id = p.merged_id
    RETURNING p.keeper_id, d.prompt_tokens, d.completion_tokens, d.cache_read_input_tokens,
              d.cache_creation_input_tokens, d.compression_saved_tokens, d.api_requests,
              d.successful_requests, d.failed_requests, d.total_response_time_ms, d.timed_requests,
              d.spend, d.compression_savings_spend, d.prompt_caching_savings_spend,
              d.gateway_injected_caching_savings_spend, d.autorouter_savings_spend
),
folded AS (
    SELECT k.keeper_id,
           coalesce(sum(m.prompt_tokens), 0) AS prompt_tokens,
           coalesce(sum(m.completion_tokens), 0) AS completion_tokens,
           coalesce(sum(m.cache_read_input_tokens), 0) AS cache_read_input_tokens,
           coalesce(sum(m.cache_creation_input_tokens), 0) AS cache_creation_input_tokens,
           coalesce(sum(m.compression_saved_tokens), 0) AS compression_saved_tokens,
           coalesce(sum(m.api_requests), 0) AS api_requests,
           coalesce(sum(m.successful_requests), 0) AS successful_requests,
           coalesce(sum(m.failed_requests), 0) AS failed_requests,
           coalesce(sum(m.total_response_time_ms), 0) AS total_response_time_ms,
           coalesce(sum(m.timed_requests), 0) AS timed_requests,
           coalesce(sum(m.spend), 0) AS spend,
           coalesce(sum(m.compression_savings_spend), 0) AS compression_savings_spend,
           coalesce(sum(m.prompt_caching_savings_spend), 0) AS prompt_caching_savings_spend,
           coalesce(sum(m.gateway_injected_caching_savings_spend), 0) AS gateway_injected_caching_savings_spend,
           coalesce(sum(m.autorouter_savings_spend), 0) AS autorouter_savings_spend
    FROM (SELECT DISTINCT p.keeper_id FROM plan AS p) AS k
    LEFT JOIN merged AS m ON m.keeper_id = k.keeper_id
    GROUP BY k.keeper_id
)
UPDATE {LiteLLM_DailyUserSpend} AS d
SET {user_id} = coalesce(d.{user_id}, ''),
    model = coalesce(d.model, ''),
    custom_llm_provider = coalesce(d.custom_llm_provider, ''),
    mcp_namespaced_tool_name = coalesce(d.mcp_namespaced_tool_name, ''),
    endpoint = coalesce(d.endpoint, ''),
    prompt_tokens = d.prompt_tokens + f.prompt_tokens,
    completion_tokens = d.completion_tokens + f.completion_tokens,
    cache_read_input_tokens = d.cache_read_input_tokens + f.cache_read_input_tokens,
    cache_creation_input_tokens = d.cache_creation_input_tokens + f.cache_creation_input_tokens,
    compression_saved_tokens = d.compression_saved_tokens + f.compression_saved_tokens,
    api_requests = d.api_requests + f.api_requests,
    successful_requests = d.successful_requests + f.successful_requests,
    failed_requests = d.failed_requests + f.failed_requests,
    total_response_time_ms = d.total_response_time_ms + f.total_response_time_ms,
    timed_requests = d.timed_requests + f.timed_requests,
    spend = d.spend + f.spend,
    compression_savings_spend = d.compression_savings_spend + f.compression_savings_spend,
    prompt_caching_savings_spend = d.prompt_caching_savings_spend + f.prompt_caching_savings_spend,
    gateway_injected_caching_savings_spend = d.gateway_injected_caching_savings_spend
                                             + f.gateway_injected_caching_savings_spend,
    autorouter_savings_spend = d.autorouter_savings_spend + f.autorouter_savings_spend,
    updated_at = now() AT TIME ZONE 'UTC'
FROM folded AS f
WHERE d.id = f.keeper_id
