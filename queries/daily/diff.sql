-- requires: 20260915000000_add_daily_response_time
-- mode: read
-- returns: rows
-- The six daily spend tables recomputed from LiteLLM_SpendLogs by LiteLLM's rules, compared with
-- the stored rows, for the UTC days [since, until). One pass over the logs (only the days asked
-- for, so partitions are pruned and the "startTime" index is used) feeds all six tables.
-- Rules (litellm-database.md §1.2-1.4 as corrected by §1.9): date = UTC date of "startTime"; key
-- columns '' for NULL; endpoint from call_type by LiteLLM's ROUTE_ENDPOINT_MAPPING, else '';
-- cache tokens from metadata.usage_object with Python int() truncation; api/successful/failed
-- requests exclude internal calls (Python truthiness of internal_call_origin) and billed retries
-- (billed_retry_attempt is JSON true); failure = metadata.status is exactly "failure"; timed
-- requests are successes that are not internal with request_duration_ms >= 0. Entity rows: user
-- always (NULL -> ''), team unless NULL, org unless NULL or '', end user unless NULL or '', agent
-- unless NULL, one tag row per distinct tag when request_tags is an array of strings only.
-- Requests LiteLLM cannot aggregate (metadata not an object, usage_object truthy but not an
-- object) count nowhere. Stored rows are grouped by their key with '' for NULL (legacy rows);
-- team rows under api_key '__ptu_flat_cost__' are not derived from logs and are left out.
-- Rows: kind 'day' = one per (daily table, date) with key counts and counter sums; kind 'key'
-- (only when %(keys)s) = one per key whose stored rows are missing, extra, differ or are legacy
-- rows to merge. %(first_writer)s adds model_group and a request_id of the first writer (the
-- earliest completed request: "endTime", then request_id in C order) to 'key' rows.
WITH endpoint_map (call_type, endpoint) AS (
    -- LiteLLM 1.109.1 litellm/proxy/route_llm_request.py ROUTE_ENDPOINT_MAPPING
    VALUES
        ('acompletion', '/chat/completions'),
        ('atext_completion', '/completions'),
        ('aembedding', '/embeddings'),
        ('aimage_generation', '/image/generations'),
        ('aspeech', '/audio/speech'),
        ('atranscription', '/audio/transcriptions'),
        ('amoderation', '/moderations'),
        ('arerank', '/rerank'),
        ('aresponses', '/responses'),
        ('_aresponses_websocket', '/responses'),
        ('alist_input_items', '/responses/{response_id}/input_items'),
        ('aimage_edit', '/images/edits'),
        ('acancel_responses', '/responses/{response_id}/cancel'),
        ('acompact_responses', '/responses/compact'),
        ('aocr', '/ocr'),
        ('asearch', '/search'),
        ('adecisions', '/decisions'),
        ('avideo_generation', '/videos'),
        ('avideo_list', '/videos'),
        ('avideo_status', '/videos/{video_id}'),
        ('avideo_content', '/videos/{video_id}/content'),
        ('avideo_remix', '/videos/{video_id}/remix'),
        ('avideo_create_character', '/videos/characters'),
        ('avideo_get_character', '/videos/characters/{character_id}'),
        ('avideo_edit', '/videos/edits'),
        ('avideo_extension', '/videos/extensions'),
        ('acreate_realtime_client_secret', '/realtime/client_secrets'),
        ('arealtime_calls', '/realtime/calls'),
        ('acreate_realtime_transcription_session', '/realtime/transcription_sessions'),
        ('acreate_container', '/containers'),
        ('alist_containers', '/containers'),
        ('aretrieve_container', '/containers/{container_id}'),
        ('adelete_container', '/containers/{container_id}'),
        ('aupload_container_file', '/containers/{container_id}/files'),
        ('alist_container_files', '/containers/{container_id}/files'),
        ('aretrieve_container_file', '/containers/{container_id}/files/{file_id}'),
        ('adelete_container_file', '/containers/{container_id}/files/{file_id}'),
        ('aretrieve_container_file_content', '/containers/{container_id}/files/{file_id}/content'),
        ('acreate_skill', '/skills'),
        ('alist_skills', '/skills'),
        ('aget_skill', '/skills/{skill_id}'),
        ('adelete_skill', '/skills/{skill_id}'),
        ('aingest', '/rag/ingest'),
        ('acreate_interaction', '/interactions'),
        ('aget_interaction', '/interactions/{interaction_id}'),
        ('adelete_interaction', '/interactions/{interaction_id}'),
        ('acancel_interaction', '/interactions/{interaction_id}/cancel'),
        ('acreate_agent', '/v1beta/agents'),
        ('alist_agents', '/v1beta/agents'),
        ('aget_agent', '/v1beta/agents/{name}'),
        ('adelete_agent', '/v1beta/agents/{name}'),
        ('alist_agent_versions', '/v1beta/agents/{name}/versions'),
        ('acreate_eval', '/evals'),
        ('alist_evals', '/evals'),
        ('aget_eval', '/evals/{eval_id}'),
        ('aupdate_eval', '/evals/{eval_id}'),
        ('adelete_eval', '/evals/{eval_id}'),
        ('acancel_eval', '/evals/{eval_id}/cancel'),
        ('acreate_run', '/evals/{eval_id}/runs'),
        ('alist_runs', '/evals/{eval_id}/runs'),
        ('aget_run', '/evals/{eval_id}/runs/{run_id}'),
        ('acancel_run', '/evals/{eval_id}/runs/{run_id}/cancel'),
        ('adelete_run', '/evals/{eval_id}/runs/{run_id}'),
        ('acreate_batch', '/batches'),
        ('aretrieve_batch', '/batches')
),
request AS (
    -- One spend log, reduced to what the daily tables take from it.
    SELECT to_char(sl."startTime", 'YYYY-MM-DD') AS date,
           sl.api_key,
           coalesce(sl.model, '') AS model,
           coalesce(sl.custom_llm_provider, '') AS custom_llm_provider,
           coalesce(sl.mcp_namespaced_tool_name, '') AS mcp_namespaced_tool_name,
           coalesce(em.endpoint, '') AS endpoint,
           sl."user", sl.team_id, sl.organization_id, sl.end_user, sl.agent_id,
           CASE WHEN jsonb_typeof(sl.request_tags) = 'array'
                 AND NOT sl.request_tags @? 'strict $[*] ? (@.type() != "string")'
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
            + CASE WHEN jsonb_typeof(m.guardrail_information) IN ('array', 'object') THEN coalesce((
                  SELECT sum(greatest(trunc((g.entry -> 'guardrail_response' -> 'tokens_saved')::numeric), 0))
                  FROM jsonb_array_elements(CASE jsonb_typeof(m.guardrail_information)
                           WHEN 'object' THEN jsonb_build_array(m.guardrail_information)
                           ELSE m.guardrail_information END) AS g(entry)
                  WHERE g.entry ->> 'guardrail_provider' = 'headroom'
                    AND jsonb_typeof(g.entry -> 'guardrail_response' -> 'tokens_saved') = 'number'), 0)
              ELSE 0 END)::bigint AS compression_saved_tokens,
           f.internal, f.billed_retry, f.failed,
           sl.request_duration_ms,
           CASE WHEN %(first_writer)s
                THEN ARRAY[to_char(sl."endTime", 'YYYYMMDDHH24MISSUS'), sl.request_id, sl.model_group] END AS writer
    FROM "LiteLLM_SpendLogs" AS sl
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
        SELECT coalesce(m.internal_call_origin NOT IN ('false', '0', '""', '[]', '{}'), false) AS internal,
               coalesce(m.billed_retry_attempt = 'true', false) AS billed_retry,
               coalesce(m.status = '"failure"', false) AS failed
    ) AS f
    WHERE sl."startTime" >= %(since)s::date AND sl."startTime" < %(until)s::date
      AND jsonb_typeof(sl.metadata) = 'object'
      AND NOT coalesce(jsonb_typeof(m.usage_object) <> 'object'
                       AND m.usage_object NOT IN ('false', '0', '""', '[]'), false)
    OFFSET 0  -- computed once per request, not once per daily row it feeds
),
contribution AS (
    -- What one request adds to one row of one daily table.
    SELECT ent.daily, ent.entity_id, rq.date, rq.api_key, rq.model, rq.custom_llm_provider,
           rq.mcp_namespaced_tool_name, rq.endpoint,
           rq.prompt_tokens, rq.completion_tokens, rq.cache_read_input_tokens, rq.cache_creation_input_tokens,
           rq.compression_saved_tokens, rq.spend, rq.writer,
           NOT rq.internal AND NOT rq.billed_retry AS api_request,
           NOT rq.failed AND NOT rq.internal AND rq.request_duration_ms >= 0 AS timed,
           rq.failed, rq.request_duration_ms
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
        SELECT DISTINCT 'tag', t.tag FROM jsonb_array_elements_text(rq.tags) AS t(tag)
        WHERE 'tag' = ANY(%(tables)s::text[])
    ) AS ent
),
recomputed AS (
    SELECT ct.daily, ct.entity_id, ct.date, ct.api_key, ct.model, ct.custom_llm_provider,
           ct.mcp_namespaced_tool_name, ct.endpoint,
           count(*) AS requests,
           sum(ct.prompt_tokens)::bigint AS prompt_tokens,
           sum(ct.completion_tokens)::bigint AS completion_tokens,
           sum(ct.cache_read_input_tokens)::bigint AS cache_read_input_tokens,
           sum(ct.cache_creation_input_tokens)::bigint AS cache_creation_input_tokens,
           sum(ct.compression_saved_tokens)::bigint AS compression_saved_tokens,
           count(*) FILTER (WHERE ct.api_request) AS api_requests,
           count(*) FILTER (WHERE ct.api_request AND NOT ct.failed) AS successful_requests,
           count(*) FILTER (WHERE ct.api_request AND ct.failed) AS failed_requests,
           coalesce(sum(ct.request_duration_ms) FILTER (WHERE ct.timed), 0)::bigint AS total_response_time_ms,
           count(*) FILTER (WHERE ct.timed) AS timed_requests,
           sum(ct.spend) AS spend,
           min(ct.writer COLLATE "C") AS writer
    FROM contribution AS ct
    GROUP BY ct.daily, ct.entity_id, ct.date, ct.api_key, ct.model, ct.custom_llm_provider,
             ct.mcp_namespaced_tool_name, ct.endpoint
),
stored_row AS (
    SELECT 'user' AS daily, dus.user_id AS entity_id, dus.id, xmin::text AS row_xmin, dus.created_at, dus.date, dus.api_key,
           dus.model, dus.custom_llm_provider, dus.mcp_namespaced_tool_name, dus.endpoint, dus.prompt_tokens,
           dus.completion_tokens, dus.cache_read_input_tokens, dus.cache_creation_input_tokens,
           dus.compression_saved_tokens, dus.api_requests, dus.successful_requests, dus.failed_requests,
           dus.total_response_time_ms, dus.timed_requests, dus.spend
    FROM "LiteLLM_DailyUserSpend" AS dus
    WHERE dus.date >= to_char(%(since)s::date, 'YYYY-MM-DD') AND dus.date < to_char(%(until)s::date, 'YYYY-MM-DD')
      AND 'user' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'team', dts.team_id, dts.id, xmin::text, dts.created_at, dts.date, dts.api_key,
           dts.model, dts.custom_llm_provider, dts.mcp_namespaced_tool_name, dts.endpoint, dts.prompt_tokens,
           dts.completion_tokens, dts.cache_read_input_tokens, dts.cache_creation_input_tokens,
           dts.compression_saved_tokens, dts.api_requests, dts.successful_requests, dts.failed_requests,
           dts.total_response_time_ms, dts.timed_requests, dts.spend
    FROM "LiteLLM_DailyTeamSpend" AS dts
    WHERE dts.date >= to_char(%(since)s::date, 'YYYY-MM-DD') AND dts.date < to_char(%(until)s::date, 'YYYY-MM-DD')
      AND dts.api_key <> '__ptu_flat_cost__'
      AND 'team' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'org', dos.organization_id, dos.id, xmin::text, dos.created_at, dos.date, dos.api_key,
           dos.model, dos.custom_llm_provider, dos.mcp_namespaced_tool_name, dos.endpoint, dos.prompt_tokens,
           dos.completion_tokens, dos.cache_read_input_tokens, dos.cache_creation_input_tokens,
           dos.compression_saved_tokens, dos.api_requests, dos.successful_requests, dos.failed_requests,
           dos.total_response_time_ms, dos.timed_requests, dos.spend
    FROM "LiteLLM_DailyOrganizationSpend" AS dos
    WHERE dos.date >= to_char(%(since)s::date, 'YYYY-MM-DD') AND dos.date < to_char(%(until)s::date, 'YYYY-MM-DD')
      AND 'org' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'end_user', des.end_user_id, des.id, xmin::text, des.created_at, des.date, des.api_key,
           des.model, des.custom_llm_provider, des.mcp_namespaced_tool_name, des.endpoint, des.prompt_tokens,
           des.completion_tokens, des.cache_read_input_tokens, des.cache_creation_input_tokens,
           des.compression_saved_tokens, des.api_requests, des.successful_requests, des.failed_requests,
           des.total_response_time_ms, des.timed_requests, des.spend
    FROM "LiteLLM_DailyEndUserSpend" AS des
    WHERE des.date >= to_char(%(since)s::date, 'YYYY-MM-DD') AND des.date < to_char(%(until)s::date, 'YYYY-MM-DD')
      AND 'end_user' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'agent', das.agent_id, das.id, xmin::text, das.created_at, das.date, das.api_key,
           das.model, das.custom_llm_provider, das.mcp_namespaced_tool_name, das.endpoint, das.prompt_tokens,
           das.completion_tokens, das.cache_read_input_tokens, das.cache_creation_input_tokens,
           das.compression_saved_tokens, das.api_requests, das.successful_requests, das.failed_requests,
           das.total_response_time_ms, das.timed_requests, das.spend
    FROM "LiteLLM_DailyAgentSpend" AS das
    WHERE das.date >= to_char(%(since)s::date, 'YYYY-MM-DD') AND das.date < to_char(%(until)s::date, 'YYYY-MM-DD')
      AND 'agent' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'tag', dgs.tag, dgs.id, xmin::text, dgs.created_at, dgs.date, dgs.api_key,
           dgs.model, dgs.custom_llm_provider, dgs.mcp_namespaced_tool_name, dgs.endpoint, dgs.prompt_tokens,
           dgs.completion_tokens, dgs.cache_read_input_tokens, dgs.cache_creation_input_tokens,
           dgs.compression_saved_tokens, dgs.api_requests, dgs.successful_requests, dgs.failed_requests,
           dgs.total_response_time_ms, dgs.timed_requests, dgs.spend
    FROM "LiteLLM_DailyTagSpend" AS dgs
    WHERE dgs.date >= to_char(%(since)s::date, 'YYYY-MM-DD') AND dgs.date < to_char(%(until)s::date, 'YYYY-MM-DD')
      AND 'tag' = ANY(%(tables)s::text[])
),
stored AS (
    -- Stored rows by normalized key: a legacy row (a NULL key column) belongs to its '' key. The
    -- keeper is the row a merge keeps: the '' row, else the oldest legacy row.
    SELECT sr.daily, coalesce(sr.entity_id, '') AS entity_id, sr.date, sr.api_key, coalesce(sr.model, '') AS model,
           coalesce(sr.custom_llm_provider, '') AS custom_llm_provider,
           coalesce(sr.mcp_namespaced_tool_name, '') AS mcp_namespaced_tool_name,
           coalesce(sr.endpoint, '') AS endpoint,
           count(*) AS stored_rows,
           count(*) FILTER (WHERE sr.legacy) AS legacy_rows,
           coalesce(max(sr.id) FILTER (WHERE NOT sr.legacy),
                    (min(ARRAY[to_char(sr.created_at, 'YYYYMMDDHH24MISSMS'), sr.id] COLLATE "C")
                         FILTER (WHERE sr.legacy))[2]) AS keeper_id,
           array_agg(sr.id) AS row_ids,
           array_agg(sr.row_xmin) AS row_xmins,
           sum(sr.prompt_tokens)::bigint AS prompt_tokens,
           sum(sr.completion_tokens)::bigint AS completion_tokens,
           sum(sr.cache_read_input_tokens)::bigint AS cache_read_input_tokens,
           sum(sr.cache_creation_input_tokens)::bigint AS cache_creation_input_tokens,
           sum(sr.compression_saved_tokens)::bigint AS compression_saved_tokens,
           sum(sr.api_requests)::bigint AS api_requests,
           sum(sr.successful_requests)::bigint AS successful_requests,
           sum(sr.failed_requests)::bigint AS failed_requests,
           sum(sr.total_response_time_ms)::bigint AS total_response_time_ms,
           sum(sr.timed_requests)::bigint AS timed_requests,
           sum(sr.spend) AS spend
    FROM (SELECT x.*, (x.entity_id IS NULL OR x.model IS NULL OR x.custom_llm_provider IS NULL
                       OR x.mcp_namespaced_tool_name IS NULL OR x.endpoint IS NULL) AS legacy
          FROM stored_row AS x) AS sr
    GROUP BY sr.daily, coalesce(sr.entity_id, ''), sr.date, sr.api_key, coalesce(sr.model, ''),
             coalesce(sr.custom_llm_provider, ''), coalesce(sr.mcp_namespaced_tool_name, ''),
             coalesce(sr.endpoint, '')
),
compared AS MATERIALIZED (
    SELECT daily, entity_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint,
           CASE WHEN st.daily IS NULL THEN 'missing'
                WHEN rc.daily IS NULL THEN 'extra'
                WHEN (rc.prompt_tokens, rc.completion_tokens, rc.cache_read_input_tokens,
                      rc.cache_creation_input_tokens, rc.compression_saved_tokens, rc.api_requests,
                      rc.successful_requests, rc.failed_requests, rc.total_response_time_ms, rc.timed_requests)
                     IS DISTINCT FROM
                     (st.prompt_tokens, st.completion_tokens, st.cache_read_input_tokens,
                      st.cache_creation_input_tokens, st.compression_saved_tokens, st.api_requests,
                      st.successful_requests, st.failed_requests, st.total_response_time_ms, st.timed_requests)
                  -- spend sums are floats added in another order: equal within a billionth
                  OR abs(rc.spend - st.spend) > 1e-9 * greatest(1.0, abs(rc.spend)) THEN 'differ'
                WHEN st.legacy_rows > 0 THEN 'legacy'
                ELSE 'same' END AS status,
           rc.requests, rc.writer,
           st.stored_rows, st.legacy_rows, st.keeper_id, st.row_ids, st.row_xmins,
           rc.prompt_tokens AS r_prompt_tokens, rc.completion_tokens AS r_completion_tokens,
           rc.cache_read_input_tokens AS r_cache_read_input_tokens,
           rc.cache_creation_input_tokens AS r_cache_creation_input_tokens,
           rc.compression_saved_tokens AS r_compression_saved_tokens, rc.api_requests AS r_api_requests,
           rc.successful_requests AS r_successful_requests, rc.failed_requests AS r_failed_requests,
           rc.total_response_time_ms AS r_total_response_time_ms, rc.timed_requests AS r_timed_requests,
           rc.spend AS r_spend,
           st.prompt_tokens AS s_prompt_tokens, st.completion_tokens AS s_completion_tokens,
           st.cache_read_input_tokens AS s_cache_read_input_tokens,
           st.cache_creation_input_tokens AS s_cache_creation_input_tokens,
           st.compression_saved_tokens AS s_compression_saved_tokens, st.api_requests AS s_api_requests,
           st.successful_requests AS s_successful_requests, st.failed_requests AS s_failed_requests,
           st.total_response_time_ms AS s_total_response_time_ms, st.timed_requests AS s_timed_requests,
           st.spend AS s_spend
    FROM recomputed AS rc
    FULL JOIN stored AS st
        USING (daily, entity_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint)
)
SELECT 'day' AS kind, cp.daily, cp.date,
       NULL AS entity_id, NULL AS api_key, NULL AS model, NULL AS custom_llm_provider,
       NULL AS mcp_namespaced_tool_name, NULL AS endpoint, NULL AS status,
       count(*) FILTER (WHERE cp.status <> 'extra') AS recomputed_keys,
       count(*) FILTER (WHERE cp.status <> 'missing') AS stored_keys,
       count(*) FILTER (WHERE cp.status = 'same') AS same,
       count(*) FILTER (WHERE cp.status = 'missing') AS missing,
       count(*) FILTER (WHERE cp.status = 'extra') AS extra,
       count(*) FILTER (WHERE cp.status = 'differ') AS differ,
       count(*) FILTER (WHERE cp.status = 'legacy') AS legacy,
       coalesce(sum(cp.requests), 0)::bigint AS requests,
       coalesce(sum(cp.stored_rows), 0)::bigint AS stored_rows,
       coalesce(sum(cp.legacy_rows), 0)::bigint AS legacy_rows,
       NULL AS keeper_id, NULL::text[] AS row_ids, NULL::text[] AS row_xmins,
       NULL AS model_group, NULL AS writer_request_id,
       coalesce(sum(cp.r_prompt_tokens), 0)::bigint AS r_prompt_tokens,
       coalesce(sum(cp.r_completion_tokens), 0)::bigint AS r_completion_tokens,
       coalesce(sum(cp.r_cache_read_input_tokens), 0)::bigint AS r_cache_read_input_tokens,
       coalesce(sum(cp.r_cache_creation_input_tokens), 0)::bigint AS r_cache_creation_input_tokens,
       coalesce(sum(cp.r_compression_saved_tokens), 0)::bigint AS r_compression_saved_tokens,
       coalesce(sum(cp.r_api_requests), 0)::bigint AS r_api_requests,
       coalesce(sum(cp.r_successful_requests), 0)::bigint AS r_successful_requests,
       coalesce(sum(cp.r_failed_requests), 0)::bigint AS r_failed_requests,
       coalesce(sum(cp.r_total_response_time_ms), 0)::bigint AS r_total_response_time_ms,
       coalesce(sum(cp.r_timed_requests), 0)::bigint AS r_timed_requests,
       coalesce(sum(cp.r_spend), 0) AS r_spend,
       coalesce(sum(cp.s_prompt_tokens), 0)::bigint AS s_prompt_tokens,
       coalesce(sum(cp.s_completion_tokens), 0)::bigint AS s_completion_tokens,
       coalesce(sum(cp.s_cache_read_input_tokens), 0)::bigint AS s_cache_read_input_tokens,
       coalesce(sum(cp.s_cache_creation_input_tokens), 0)::bigint AS s_cache_creation_input_tokens,
       coalesce(sum(cp.s_compression_saved_tokens), 0)::bigint AS s_compression_saved_tokens,
       coalesce(sum(cp.s_api_requests), 0)::bigint AS s_api_requests,
       coalesce(sum(cp.s_successful_requests), 0)::bigint AS s_successful_requests,
       coalesce(sum(cp.s_failed_requests), 0)::bigint AS s_failed_requests,
       coalesce(sum(cp.s_total_response_time_ms), 0)::bigint AS s_total_response_time_ms,
       coalesce(sum(cp.s_timed_requests), 0)::bigint AS s_timed_requests,
       coalesce(sum(cp.s_spend), 0) AS s_spend
FROM compared AS cp
GROUP BY cp.daily, cp.date
UNION ALL
SELECT 'key', cp.daily, cp.date, cp.entity_id, cp.api_key, cp.model, cp.custom_llm_provider,
       cp.mcp_namespaced_tool_name, cp.endpoint, cp.status,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       cp.requests, cp.stored_rows, cp.legacy_rows, cp.keeper_id, cp.row_ids, cp.row_xmins,
       cp.writer[3], cp.writer[2],
       cp.r_prompt_tokens, cp.r_completion_tokens, cp.r_cache_read_input_tokens, cp.r_cache_creation_input_tokens,
       cp.r_compression_saved_tokens, cp.r_api_requests, cp.r_successful_requests, cp.r_failed_requests,
       cp.r_total_response_time_ms, cp.r_timed_requests, cp.r_spend,
       cp.s_prompt_tokens, cp.s_completion_tokens, cp.s_cache_read_input_tokens, cp.s_cache_creation_input_tokens,
       cp.s_compression_saved_tokens, cp.s_api_requests, cp.s_successful_requests, cp.s_failed_requests,
       cp.s_total_response_time_ms, cp.s_timed_requests, cp.s_spend
FROM compared AS cp
WHERE %(keys)s AND cp.status <> 'same'
ORDER BY 1, 3, 2, 4, 5, 6, 7, 8, 9
