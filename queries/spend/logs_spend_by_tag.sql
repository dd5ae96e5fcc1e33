-- requires: 20251210205007_add_daily_agent_spend_table
-- mode: read
-- returns: rows
-- spend/logs_spend grouped by tag: one request counts once for each distinct tag it carries (so tag
-- groups overlap and do not add up to the total), and, as in LiteLLM's daily tag table, a request whose
-- request_tags is not an array of strings counts for no tag.
WITH grouped AS (
    SELECT CASE WHEN %(per_day)s THEN l."startTime"::date::text END AS day,
           t.tag AS group_id,
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
    CROSS JOIN LATERAL (
        SELECT DISTINCT value AS tag
        FROM jsonb_array_elements_text(CASE
            WHEN jsonb_typeof(l.request_tags) = 'array'
                 AND NOT jsonb_path_exists(l.request_tags, 'strict $[*] ? (@.type() != "string")')
            THEN l.request_tags ELSE '[]'::jsonb END)
    ) AS t
    WHERE l."startTime" >= %(since)s AND l."startTime" < %(until)s
      AND (%(keys)s::text[] IS NULL OR l.api_key = ANY(%(keys)s::text[]))
      AND (%(users)s::text[] IS NULL OR COALESCE(l."user", '') = ANY(%(users)s::text[]))
      AND (%(teams)s::text[] IS NULL OR COALESCE(l.team_id, '') = ANY(%(teams)s::text[]))
      AND (%(orgs)s::text[] IS NULL OR COALESCE(l.organization_id, '') = ANY(%(orgs)s::text[]))
      AND (%(end_users)s::text[] IS NULL OR COALESCE(l.end_user, '') = ANY(%(end_users)s::text[]))
      AND (%(agents)s::text[] IS NULL OR COALESCE(l.agent_id, '') = ANY(%(agents)s::text[]))
      AND (%(models)s::text[] IS NULL OR l.model = ANY(%(models)s::text[]))
      AND (%(providers)s::text[] IS NULL OR COALESCE(l.custom_llm_provider, '') = ANY(%(providers)s::text[]))
      AND (%(tags)s::text[] IS NULL OR t.tag = ANY(%(tags)s::text[]))
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
