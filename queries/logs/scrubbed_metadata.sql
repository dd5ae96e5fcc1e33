-- requires: 20250425182129_add_session_id
-- mode: fragment
-- A spend log's metadata (alias s) with the request and response bodies LiteLLM stores there taken
-- out (spend_tracking_utils._get_spend_logs_metadata): the request body copy (proxy_server_request),
-- vector-store search results (vector_store_request_metadata), LLM-judge evaluations
-- (eval_information), an MCP tool call's arguments and result; and in each guardrail_information
-- entry the four fields that can quote the prompt (LiteLLM's PROMPT_CARRYING_GUARDRAIL_FIELDS)
-- replaced by LiteLLM's own marker, as it stores them with store_prompts_in_spend_logs off: the
-- numeric compression stats of guardrail_response (tokens_saved...) are kept, as LiteLLM keeps
-- them, because the daily tables count them. Everything else stays. Applied twice, it changes
-- nothing more: a scrubbed row is its own scrub.
CASE WHEN jsonb_typeof(s.metadata) = 'object' THEN
    (s.metadata - 'proxy_server_request' - 'vector_store_request_metadata' - 'eval_information')
    || CASE WHEN jsonb_typeof(s.metadata -> 'mcp_tool_call_metadata') = 'object'
            THEN jsonb_build_object('mcp_tool_call_metadata',
                                    (s.metadata -> 'mcp_tool_call_metadata') - 'arguments' - 'result')
            ELSE '{}'::jsonb END
    || CASE jsonb_typeof(s.metadata -> 'guardrail_information')
       WHEN 'object' THEN jsonb_build_object('guardrail_information', (
            SELECT g.entry || coalesce((
                       SELECT jsonb_object_agg(k.key, to_jsonb('REDACTED_BY_LITELM'::text))
                       FROM jsonb_object_keys(g.entry) AS k(key)
                       WHERE k.key IN ('guardrail_request', 'guardrail_response', 'match_details', 'classification')
                   ), '{}'::jsonb)
                   || coalesce((
                       SELECT jsonb_build_object('guardrail_response', jsonb_object_agg(r.key, r.value))
                       FROM jsonb_each(CASE WHEN jsonb_typeof(g.entry -> 'guardrail_response') = 'object'
                                            THEN g.entry -> 'guardrail_response' ELSE '{}'::jsonb END) AS r(key, value)
                       WHERE r.key IN ('tokens_before', 'tokens_after', 'tokens_saved', 'compression_ratio')
                         AND jsonb_typeof(r.value) = 'number'
                       HAVING count(*) > 0
                   ), '{}'::jsonb)
            FROM (SELECT s.metadata -> 'guardrail_information' AS entry) AS g))
       WHEN 'array' THEN jsonb_build_object('guardrail_information', (
            SELECT coalesce(jsonb_agg(
                       CASE WHEN jsonb_typeof(g.entry) <> 'object' THEN g.entry
                       ELSE g.entry || coalesce((
                               SELECT jsonb_object_agg(k.key, to_jsonb('REDACTED_BY_LITELM'::text))
                               FROM jsonb_object_keys(g.entry) AS k(key)
                               WHERE k.key IN ('guardrail_request', 'guardrail_response', 'match_details',
                                               'classification')
                           ), '{}'::jsonb)
                           || coalesce((
                               SELECT jsonb_build_object('guardrail_response', jsonb_object_agg(r.key, r.value))
                               FROM jsonb_each(CASE WHEN jsonb_typeof(g.entry -> 'guardrail_response') = 'object'
                                                    THEN g.entry -> 'guardrail_response'
                                                    ELSE '{}'::jsonb END) AS r(key, value)
                               WHERE r.key IN ('tokens_before', 'tokens_after', 'tokens_saved', 'compression_ratio')
                                 AND jsonb_typeof(r.value) = 'number'
                               HAVING count(*) > 0
                           ), '{}'::jsonb)
                       END ORDER BY g.n), '[]'::jsonb)
            FROM jsonb_array_elements(s.metadata -> 'guardrail_information') WITH ORDINALITY AS g(entry, n)))
       ELSE '{}'::jsonb END
ELSE s.metadata END
