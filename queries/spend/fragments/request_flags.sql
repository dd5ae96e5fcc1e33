-- requires: 20250326162113_baseline
-- mode: fragment
-- For each spend log `l`, `c.failed` (metadata.status is exactly 'failure') and `c.caller` (the log
-- counts as a request in LiteLLM's daily tables: not a billed retry, metadata.billed_retry_attempt
-- JSON true, and not an internal call, internal_call_origin truthy as Python sees it).
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
