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
       -- include: spend/fragments/cache_read_tokens
           AS cache_read_input_tokens,
       -- include: spend/fragments/cache_creation_tokens
           AS cache_creation_input_tokens,
       CASE WHEN c.failed THEN 'failure' ELSE 'success' END AS status, c.caller AS counted_request,
       l.metadata ->> 'internal_call_origin' AS internal_call_origin,
       COALESCE(l.metadata -> 'billed_retry_attempt' = 'true'::jsonb, false) AS billed_retry,
       l.request_tags, l.session_id, CASE WHEN %(with_metadata)s THEN l.metadata END AS metadata
FROM "LiteLLM_SpendLogs" AS l
-- include: spend/fragments/request_flags
WHERE l."startTime" >= %(since)s AND l."startTime" < %(until)s
-- include: spend/fragments/log_filters
  AND (%(tags)s::text[] IS NULL OR (jsonb_typeof(l.request_tags) = 'array' AND l.request_tags ?| %(tags)s::text[]))
