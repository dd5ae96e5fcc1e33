-- requires: 20260831120000_add_litellm_call_id_spend_logs
-- mode: read
-- returns: rows
-- The most recent spend-log rows matching the filters (newest first), or the one row whose request_id
-- or litellm_call_id is %(request_id)s. Messages and responses only when %(show_payload)s. Status and
-- the internal/retry flags as LiteLLM's daily tables read them (metadata first).
SELECT l.request_id, l.litellm_call_id, l."startTime" AS start_time, l."endTime" AS end_time,
       l.request_duration_ms, l.call_type, l.api_key, COALESCE(l."user", '') AS user_id,
       COALESCE(l.team_id, '') AS team_id, COALESCE(l.organization_id, '') AS organization_id,
       COALESCE(l.end_user, '') AS end_user, COALESCE(l.agent_id, '') AS agent_id, l.model, l.model_group,
       COALESCE(l.custom_llm_provider, '') AS custom_llm_provider, l.spend, l.prompt_tokens, l.completion_tokens,
       l.total_tokens, COALESCE(l.metadata ->> 'status', l.status, 'success') AS status,
       l.metadata -> 'error_information' ->> 'error_class' AS error_class,
       l.metadata -> 'error_information' ->> 'error_message' AS error_message,
       l.metadata ->> 'internal_call_origin' AS internal_call_origin,
       COALESCE(l.metadata -> 'billed_retry_attempt' = 'true'::jsonb, false) AS billed_retry,
       l.request_tags, l.session_id, l.cache_hit,
       CASE WHEN %(show_payload)s THEN l.messages END AS messages,
       CASE WHEN %(show_payload)s THEN l.response END AS response
FROM "LiteLLM_SpendLogs" AS l
WHERE (%(request_id)s::text IS NULL OR l.request_id = %(request_id)s::text OR l.litellm_call_id = %(request_id)s::text)
  AND (%(since)s::timestamp IS NULL OR l."startTime" >= %(since)s::timestamp)
  AND (%(until)s::timestamp IS NULL OR l."startTime" < %(until)s::timestamp)
-- include: spend/fragments/log_filters
  AND (%(tags)s::text[] IS NULL OR (jsonb_typeof(l.request_tags) = 'array' AND l.request_tags ?| %(tags)s::text[]))
ORDER BY l."startTime" DESC, l.request_id DESC
LIMIT %(limit)s
