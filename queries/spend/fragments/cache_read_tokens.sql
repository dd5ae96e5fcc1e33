-- requires: 20250326162113_baseline
-- mode: fragment
-- A spend log's cache-read tokens as LiteLLM's daily tables count them (litellm-database.md §1.3):
-- metadata.usage_object.cache_read_input_tokens when it is a non-zero number (or true), else
-- prompt_tokens_details.cached_tokens, else 0; numbers truncated like Python's int(). Reads `l`.
COALESCE(
    NULLIF(CASE jsonb_typeof(l.metadata -> 'usage_object' -> 'cache_read_input_tokens')
        WHEN 'number' THEN trunc((l.metadata -> 'usage_object' ->> 'cache_read_input_tokens')::numeric)::bigint
        WHEN 'boolean' THEN (l.metadata -> 'usage_object' ->> 'cache_read_input_tokens')::boolean::int END, 0),
    CASE jsonb_typeof(l.metadata -> 'usage_object' -> 'prompt_tokens_details' -> 'cached_tokens')
        WHEN 'number' THEN trunc((l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cached_tokens')::numeric)::bigint
        WHEN 'boolean' THEN (l.metadata -> 'usage_object' -> 'prompt_tokens_details' ->> 'cached_tokens')::boolean::int END,
    0)
