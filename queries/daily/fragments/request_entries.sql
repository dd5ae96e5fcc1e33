-- requires: 20260915000000_add_daily_response_time
-- mode: fragment
-- What each `request AS rq` row adds to one key of each daily table: one row per (table, entity),
-- by LiteLLM's entity rules (user always, team unless NULL, org and end user unless NULL or '', agent
-- unless NULL, one row per distinct string tag). Parameter %(tables)s. Braces doubled.
SELECT ent.daily, ent.entity_id, rq.date, rq.api_key, rq.model, rq.custom_llm_provider,
       rq.mcp_namespaced_tool_name, rq.endpoint, false AS stored, false AS legacy,
       rq.prompt_tokens::float8 AS prompt_tokens, rq.completion_tokens::float8 AS completion_tokens,
       rq.cache_read_input_tokens::float8 AS cache_read_input_tokens,
       rq.cache_creation_input_tokens::float8 AS cache_creation_input_tokens,
       rq.compression_saved_tokens::float8 AS compression_saved_tokens,
       rq.api_request::int::float8 AS api_requests,
       (rq.api_request AND NOT rq.failed)::int::float8 AS successful_requests,
       (rq.api_request AND rq.failed)::int::float8 AS failed_requests,
       CASE WHEN rq.timed THEN rq.request_duration_ms ELSE 0 END::float8 AS total_response_time_ms,
       rq.timed::int::float8 AS timed_requests,
       rq.spend, rq.writer
FROM request AS rq
CROSS JOIN LATERAL (
    SELECT 'user' AS daily, coalesce(rq."user", '') AS entity_id WHERE 'user' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'team', rq.team_id WHERE rq.team_id IS NOT NULL AND 'team' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'org', rq.organization_id WHERE rq.organization_id <> '' AND 'org' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'end_user', rq.end_user WHERE rq.end_user <> '' AND 'end_user' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'agent', rq.agent_id WHERE rq.agent_id IS NOT NULL AND 'agent' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT DISTINCT 'tag', t.element #>> '{{}}' FROM jsonb_array_elements(rq.tags) AS t(element)
    WHERE jsonb_typeof(t.element) = 'string' AND 'tag' = ANY(%(tables)s::text[])
) AS ent
