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
    CROSS JOIN LATERAL (
        SELECT DISTINCT value AS tag
        FROM jsonb_array_elements_text(CASE
            WHEN jsonb_typeof(l.request_tags) = 'array'
                 AND NOT jsonb_path_exists(l.request_tags, 'strict $[*] ? (@.type() != "string")')
            THEN l.request_tags ELSE '[]'::jsonb END)
    ) AS t
    WHERE l."startTime" >= %(since)s AND l."startTime" < %(until)s
    -- include: spend/fragments/log_filters
      AND (%(tags)s::text[] IS NULL OR t.tag = ANY(%(tags)s::text[]))
    GROUP BY 1, 2
),
-- include: spend/fragments/top_groups
