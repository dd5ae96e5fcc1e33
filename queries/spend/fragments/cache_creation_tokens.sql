-- requires: 20250326162113_baseline
-- mode: fragment
-- A spend log's cache-write tokens as LiteLLM's daily tables count them (litellm-database.md §1.3):
-- metadata.usage_object.cache_creation_input_tokens when non-zero, else
-- prompt_tokens_details.cache_write_tokens when non-zero, else .cache_creation_tokens, else 0;
-- numbers truncated like Python's int(). Reads `l`.
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
    0)
