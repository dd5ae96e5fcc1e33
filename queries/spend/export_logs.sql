-- requires: 20260831120000_add_litellm_call_id_spend_logs
-- mode: read
-- returns: rows
-- Spend-log rows of [%(since)s, %(until)s), streamed by `spend export` as CSV or JSON lines with
-- sqlfiles.copy_out (constant memory at any size). Times are UTC. Beside the stored columns, what LiteLLM's daily
-- tables read from metadata: cache tokens, status, and whether the row counts as a request
-- (counted_request: not an internal call, not a billed retry), so the rows add up to `spend summary
-- --source logs`. The metadata JSON only when %(with_metadata)s (rendering it is most of the cost);
-- messages and responses never.
SELECT l.request_id, l.litellm_call_id, l."startTime" AS start_time, l."endTime" AS end_time,
       l.request_duration_ms, l.call_type, l.api_key, l."user", l.team_id, l.organization_id, l.end_user,
       l.agent_id, l.model, l.model_group, l.custom_llm_provider, l.spend, l.prompt_tokens,
       l.completion_tokens, l.total_tokens,
       COALESCE(
           NULLIF(CASE jsonb_typeof(l.metadata -> 'usage_object' -> 'cache_read_input_tokens')
               WHEN 'number' THEN trunc((l.metadata -> 'usage_object' ->> 'cache_read_input_tokens')::numeric)::bigint
               WHEN 'boolean' THEN (l.metadata -> 'usage_object' ->> 'cache_read_input_tokens')::boolean::int END, 0),
           CASE jsonb_typeof(l.metadata -> 'usage_object' -> 'prompt_tokens_details' -> 'cached_tokens')
               WHEN 'number' THEN trunc((l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cached_tokens')::numeric)::bigint
               WHEN 'boolean' THEN (l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cached_tokens')::boolean::int END,
           0) AS cache_read_input_tokens,
       COALESCE(
           NULLIF(CASE jsonb_typeof(l.metadata -> 'usage_object' -> 'cache_creation_input_tokens')
               WHEN 'number' THEN trunc((l.metadata -> 'usage_object' ->> 'cache_creation_input_tokens')::numeric)::bigint
               WHEN 'boolean' THEN (l.metadata -> 'usage_object' ->> 'cache_creation_input_tokens')::boolean::int END, 0),
           NULLIF(CASE jsonb_typeof(l.metadata -> 'usage_object' -> 'prompt_tokens_details' -> 'cache_write_tokens')
               WHEN 'number' THEN trunc((l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_write_tokens')::numeric)::bigint
               WHEN 'boolean' THEN (l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_write_tokens')::boolean::int END, 0),
           CASE jsonb_typeof(l.metadata -> 'usage_object' -> 'prompt_tokens_details' -> 'cache_creation_tokens')
               WHEN 'number' THEN trunc((l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_creation_tokens')::numeric)::bigint
               WHEN 'boolean' THEN (l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cache_creation_tokens')::boolean::int END,
           0) AS cache_creation_input_tokens,
       CASE WHEN c.failed THEN 'failure' ELSE 'success' END AS status, c.caller AS counted_request,
       l.metadata ->> 'internal_call_origin' AS internal_call_origin,
       COALESCE(l.metadata -> 'billed_retry_attempt' = 'true'::jsonb, false) AS billed_retry,
       l.request_tags, l.session_id, CASE WHEN %(with_metadata)s THEN l.metadata END AS metadata
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
