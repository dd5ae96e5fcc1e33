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
           sum(COALESCE(
               NULLIF(CASE jsonb_typeof(l.metadata -> 'usage_object' -> 'cache_read_input_tokens')
                   WHEN 'number' THEN trunc((l.metadata -> 'usage_object' ->> 'cache_read_input_tokens')::numeric)::bigint
                   WHEN 'boolean' THEN (l.metadata -> 'usage_object' ->> 'cache_read_input_tokens')::boolean::int END, 0),
               CASE jsonb_typeof(l.metadata -> 'usage_object' -> 'prompt_tokens_details' -> 'cached_tokens')
                   WHEN 'number' THEN trunc((l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cached_tokens')::numeric)::bigint
                   WHEN 'boolean' THEN (l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cached_tokens')::boolean::int END,
               0)) AS cache_read_input_tokens,
           sum(COALESCE(
               NULLIF(CASE jsonb_typeof(l.metadata -> 'usage_object' -> 'cache_creation_input_tokens')
                   WHEN 'number' THEN trunc((l.metadata -> 'usage_object' ->> 'cache_creation_input_tokens')::numeric)::bigint
                   WHEN 'boolean' THEN (l.metadata -> 'usage_object' ->> 'cache_creation_input_tokens')::boolean::int END, 0),
               NULLIF(CASE jsonb_typeof(l.metadata -> 'usage_object' -> 'prompt_tokens_details' -> 'cache_write_tokens')
                   WHEN 'number' THEN trunc((l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_write_tokens')::numeric)::bigint
                   WHEN 'boolean' THEN (l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_write_tokens')::boolean::int END, 0),
               CASE jsonb_typeof(l.metadata -> 'usage_object' -> 'prompt_tokens_details' -> 'cache_creation_tokens')
                   WHEN 'number' THEN trunc((l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_creation_tokens')::numeric)::bigint
                   WHEN 'boolean' THEN (l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_creation_tokens')::boolean::int END,
               0)) AS cache_creation_input_tokens,
           count(*) FILTER (WHERE c.caller) AS requests,
           count(*) FILTER (WHERE c.caller AND NOT c.failed) AS successful_requests,
           count(*) FILTER (WHERE c.caller AND c.failed) AS failed_requests
    FROM "LiteLLM_SpendLogs" AS l
    CROSS JOIN LATERAL (SELECT
        COALESCE(l.metadata ->> 'status', '') = 'failure' AS failed,
        NOT COALESCE(l.metadata -> 'billed_retry_attempt' = 'true'::jsonb, false)
        AND NOT CASE jsonb_typeof(l.metadata -> 'internal_call_origin')
                    WHEN 'string' THEN l.metadata ->> 'internal_call_origin' <> ''
                    WHEN 'number' THEN (l.metadata ->> 'internal_call_origin')::numeric <> 0
                    WHEN 'boolean' THEN l.metadata -> 'internal_call_origin' = 'true'::jsonb
                    WHEN 'array' THEN l.metadata -> 'internal_call_origin' <> '[]'::jsonb
                    WHEN 'object' THEN l.metadata -> 'internal_call_origin' <> '{}'::jsonb
                    ELSE false END AS caller
    ) AS c
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
    GROUP BY 1, 2
),
ranked AS (
    SELECT group_id, row_number() OVER (ORDER BY sum(spend) DESC, group_id) AS rank
    FROM grouped GROUP BY group_id
)
SELECT g.day,
       CASE WHEN r.rank <= %(top)s THEN g.group_id END AS group_id,
       r.rank > %(top)s AS is_other,
       count(DISTINCT g.group_id) AS groups,
       COALESCE(sum(g.spend), 0)::float8 AS spend,
       COALESCE(sum(g.prompt_tokens), 0)::bigint AS prompt_tokens,
       COALESCE(sum(g.completion_tokens), 0)::bigint AS completion_tokens,
       COALESCE(sum(g.cache_read_input_tokens), 0)::bigint AS cache_read_input_tokens,
       COALESCE(sum(g.cache_creation_input_tokens), 0)::bigint AS cache_creation_input_tokens,
       COALESCE(sum(g.requests), 0)::bigint AS requests,
       COALESCE(sum(g.successful_requests), 0)::bigint AS successful_requests,
       COALESCE(sum(g.failed_requests), 0)::bigint AS failed_requests
FROM grouped AS g
JOIN ranked AS r ON r.group_id = g.group_id
GROUP BY 1, 2, 3
ORDER BY 1, 3, 5 DESC, 2
