-- requires: 20260915000000_add_daily_response_time
-- mode: fragment
-- One spend log `sl` reduced to what the daily tables take from it (litellm-database.md §1.2-1.4 as
-- corrected by §1.9); the columns of daily/diff's `request`. Needs request_joins after the FROM.
-- Parameters: %(litellm_1110)s, %(first_writer)s. Braces doubled: the statement has identifiers.
SELECT to_char(sl."startTime", 'YYYY-MM-DD') AS date,
       sl.api_key,
       coalesce(sl.model, '') AS model,
       coalesce(sl.custom_llm_provider, '') AS custom_llm_provider,
       coalesce(sl.mcp_namespaced_tool_name, '') AS mcp_namespaced_tool_name,
       coalesce(em.endpoint, '') AS endpoint,
       sl."user", sl.team_id, sl.organization_id, sl.end_user, sl.agent_id,
       CASE WHEN jsonb_typeof(sl.request_tags) = 'array'
             AND (%(litellm_1110)s::boolean OR NOT sl.request_tags @? 'strict $[*] ? (@.type() != "string")')
            THEN sl.request_tags END AS tags,
       sl.prompt_tokens, sl.completion_tokens, sl.spend,
       -- Python int(): numbers truncate toward zero, true is 1; a top-level count wins when non-zero.
       CASE WHEN jsonb_typeof(u.read_top) = 'number' AND u.read_top <> '0' THEN trunc(u.read_top::numeric)
            WHEN u.read_top = 'true' THEN 1
            WHEN jsonb_typeof(u.read_detail) = 'number' THEN trunc(u.read_detail::numeric)
            WHEN u.read_detail = 'true' THEN 1
            ELSE 0 END::bigint AS cache_read_input_tokens,
       CASE WHEN jsonb_typeof(u.write_top) = 'number' AND u.write_top <> '0' THEN trunc(u.write_top::numeric)
            WHEN u.write_top = 'true' THEN 1
            WHEN jsonb_typeof(u.write_detail) = 'number' AND u.write_detail <> '0' THEN trunc(u.write_detail::numeric)
            WHEN u.write_detail = 'true' THEN 1
            WHEN jsonb_typeof(u.create_detail) = 'number' AND u.create_detail <> '0' THEN trunc(u.create_detail::numeric)
            WHEN u.create_detail = 'true' THEN 1
            ELSE 0 END::bigint AS cache_creation_input_tokens,
       -- compression_savings.tokens_saved plus each "headroom" guardrail entry's tokens_saved
       -- (a bare object is one entry); non-numbers and negatives count 0, fractions truncate.
       (CASE WHEN jsonb_typeof(m.compression_savings -> 'tokens_saved') = 'number'
             THEN greatest(trunc((m.compression_savings -> 'tokens_saved')::numeric), 0) ELSE 0 END
        + CASE WHEN jsonb_typeof(m.guardrail_information) IN ('array', 'object')
                    AND NOT (%(litellm_1110)s::boolean AND jsonb_typeof(m.guardrail_information) = 'array'
                             AND m.guardrail_information @? 'strict $[*] ? (@.type() != "object")')
               THEN coalesce((
              SELECT sum(greatest(trunc((g.entry -> 'guardrail_response' -> 'tokens_saved')::numeric), 0))
              FROM jsonb_array_elements(CASE jsonb_typeof(m.guardrail_information)
                       WHEN 'object' THEN jsonb_build_array(m.guardrail_information)
                       ELSE m.guardrail_information END) AS g(entry)
              WHERE g.entry ->> 'guardrail_provider' = 'headroom'
                AND jsonb_typeof(g.entry -> 'guardrail_response' -> 'tokens_saved') = 'number'), 0)
          ELSE 0 END)::bigint AS compression_saved_tokens,
       NOT f.internal AND NOT f.billed_retry AS api_request,
       f.failed,
       NOT f.failed AND NOT f.internal AND coalesce(sl.request_duration_ms >= 0, false) AS timed,
       sl.request_duration_ms,
       CASE WHEN %(first_writer)s
            THEN ARRAY[to_char(sl."endTime", 'YYYYMMDDHH24MISSUS'), sl.request_id, sl.model_group] END AS writer
