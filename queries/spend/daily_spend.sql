-- requires: 20251210205007_add_daily_agent_spend_table
-- mode: read
-- returns: rows
-- Spend, tokens and requests from ONE of LiteLLM's daily tables (%(daily_table)s: user, team, org,
-- end_user, agent or tag; the other branches fold away at plan time) over whole UTC days
-- [%(first_day)s, %(last_day)s], filtered, grouped by %(by)s (key, model, provider, entity, or NULL
-- for one total), per day when %(per_day)s. The %(top)s groups with the most spend keep their id; the
-- rest fold into one "other" row per day (is_other, with how many groups it holds). NULL and ''
-- ids/keys are one group (''). The team table's PTU flat-cost sentinel rows are not requests: left out.
WITH daily AS (
    SELECT user_id AS entity, date, api_key, model, custom_llm_provider, spend, prompt_tokens, completion_tokens,
           cache_read_input_tokens, cache_creation_input_tokens, api_requests, successful_requests, failed_requests
    FROM "LiteLLM_DailyUserSpend" WHERE %(daily_table)s = 'user'
    UNION ALL
    SELECT team_id, date, api_key, model, custom_llm_provider, spend, prompt_tokens, completion_tokens,
           cache_read_input_tokens, cache_creation_input_tokens, api_requests, successful_requests, failed_requests
    FROM "LiteLLM_DailyTeamSpend" WHERE %(daily_table)s = 'team' AND api_key <> '__ptu_flat_cost__'
    UNION ALL
    SELECT organization_id, date, api_key, model, custom_llm_provider, spend, prompt_tokens, completion_tokens,
           cache_read_input_tokens, cache_creation_input_tokens, api_requests, successful_requests, failed_requests
    FROM "LiteLLM_DailyOrganizationSpend" WHERE %(daily_table)s = 'org'
    UNION ALL
    SELECT end_user_id, date, api_key, model, custom_llm_provider, spend, prompt_tokens, completion_tokens,
           cache_read_input_tokens, cache_creation_input_tokens, api_requests, successful_requests, failed_requests
    FROM "LiteLLM_DailyEndUserSpend" WHERE %(daily_table)s = 'end_user'
    UNION ALL
    SELECT agent_id, date, api_key, model, custom_llm_provider, spend, prompt_tokens, completion_tokens,
           cache_read_input_tokens, cache_creation_input_tokens, api_requests, successful_requests, failed_requests
    FROM "LiteLLM_DailyAgentSpend" WHERE %(daily_table)s = 'agent'
    UNION ALL
    SELECT tag, date, api_key, model, custom_llm_provider, spend, prompt_tokens, completion_tokens,
           cache_read_input_tokens, cache_creation_input_tokens, api_requests, successful_requests, failed_requests
    FROM "LiteLLM_DailyTagSpend" WHERE %(daily_table)s = 'tag'
),
grouped AS (
    SELECT CASE WHEN %(per_day)s THEN date END AS day,
           CASE %(by)s WHEN 'key' THEN COALESCE(api_key, '') WHEN 'model' THEN COALESCE(model, '')
                       WHEN 'provider' THEN COALESCE(custom_llm_provider, '') WHEN 'entity' THEN COALESCE(entity, '')
                       ELSE '' END AS group_id,
           sum(spend) AS spend, sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens,
           sum(cache_read_input_tokens) AS cache_read_input_tokens,
           sum(cache_creation_input_tokens) AS cache_creation_input_tokens,
           sum(api_requests) AS requests, sum(successful_requests) AS successful_requests,
           sum(failed_requests) AS failed_requests
    FROM daily
    WHERE date >= %(first_day)s AND date <= %(last_day)s
      AND (%(keys)s::text[] IS NULL OR COALESCE(api_key, '') = ANY(%(keys)s::text[]))
      AND (%(models)s::text[] IS NULL OR COALESCE(model, '') = ANY(%(models)s::text[]))
      AND (%(providers)s::text[] IS NULL OR COALESCE(custom_llm_provider, '') = ANY(%(providers)s::text[]))
      AND (%(entities)s::text[] IS NULL OR COALESCE(entity, '') = ANY(%(entities)s::text[]))
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
