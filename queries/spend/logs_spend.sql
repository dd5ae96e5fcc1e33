-- requires: 20251210205007_add_daily_agent_spend_table
-- mode: read
-- returns: rows
-- The same answer as spend/daily_spend computed from LiteLLM_SpendLogs over [%(since)s, %(until)s),
-- grouped by %(by)s (key, model, provider, user, team, org, end_user, agent, or NULL for one total),
-- per UTC day when %(per_day)s; top %(top)s groups by spend, the rest folded into "other". Counted by
-- LiteLLM's daily-table rules: requests exclude internal calls (truthy metadata.internal_call_origin)
-- and billed retries (metadata.billed_retry_attempt = JSON true); a failure is metadata.status =
-- 'failure'; cache tokens from metadata.usage_object (top-level count when non-zero, else
-- prompt_tokens_details.cached_tokens; cache writes likewise), truncated like Python's int().
-- NULL and '' ids are one group ('').
WITH grouped AS (
    SELECT CASE WHEN %(per_day)s THEN l."startTime"::date::text END AS day,
           CASE %(by)s WHEN 'key' THEN l.api_key WHEN 'model' THEN l.model
                       WHEN 'provider' THEN COALESCE(l.custom_llm_provider, '') WHEN 'user' THEN COALESCE(l."user", '')
                       WHEN 'team' THEN COALESCE(l.team_id, '') WHEN 'org' THEN COALESCE(l.organization_id, '')
                       WHEN 'end_user' THEN COALESCE(l.end_user, '') WHEN 'agent' THEN COALESCE(l.agent_id, '')
                       ELSE '' END AS group_id,
           sum(l.spend) AS spend, sum(l.prompt_tokens) AS prompt_tokens,
           sum(l.completion_tokens) AS completion_tokens,
           sum(
               -- include: spend/fragments/cache_read_tokens
           ) AS cache_read_input_tokens,
           sum(
               -- include: spend/fragments/cache_creation_tokens
           ) AS cache_creation_input_tokens,
           count(*) FILTER (WHERE c.caller) AS requests,
           count(*) FILTER (WHERE c.caller AND NOT c.failed) AS successful_requests,
           count(*) FILTER (WHERE c.caller AND c.failed) AS failed_requests
    FROM "LiteLLM_SpendLogs" AS l
    -- include: spend/fragments/request_flags
    WHERE l."startTime" >= %(since)s AND l."startTime" < %(until)s
    -- include: spend/fragments/log_filters
      AND (%(tags)s::text[] IS NULL OR (jsonb_typeof(l.request_tags) = 'array' AND l.request_tags ?| %(tags)s::text[]))
    GROUP BY 1, 2
),
-- include: spend/fragments/top_groups
