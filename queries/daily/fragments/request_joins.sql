-- requires: 20260915000000_add_daily_response_time
-- mode: fragment
-- The joins request_columns reads: the endpoint map, metadata keys read once, cache tokens, flags.
LEFT JOIN endpoint_map AS em ON em.call_type = sl.call_type
-- Each metadata key is read once (one detoast), as jsonb; a JSON null reads as SQL NULL.
CROSS JOIN LATERAL jsonb_to_record(CASE WHEN jsonb_typeof(sl.metadata) = 'object' THEN sl.metadata END)
    AS m(usage_object jsonb, internal_call_origin jsonb, billed_retry_attempt jsonb, status jsonb,
         compression_savings jsonb, guardrail_information jsonb)
CROSS JOIN LATERAL (
    SELECT m.usage_object -> 'cache_read_input_tokens' AS read_top,
           m.usage_object -> 'prompt_tokens_details' -> 'cached_tokens' AS read_detail,
           m.usage_object -> 'cache_creation_input_tokens' AS write_top,
           m.usage_object -> 'prompt_tokens_details' -> 'cache_write_tokens' AS write_detail,
           m.usage_object -> 'prompt_tokens_details' -> 'cache_creation_tokens' AS create_detail
) AS u
CROSS JOIN LATERAL (
    SELECT coalesce(m.internal_call_origin NOT IN ('false', '0', '""', '[]', '{{}}'), false) AS internal,
           coalesce(m.billed_retry_attempt = 'true', false) AS billed_retry,
           coalesce(m.status = '"failure"', false) AS failed
) AS f
