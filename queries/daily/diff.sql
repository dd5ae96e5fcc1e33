-- requires: 20260915000000_add_daily_response_time
-- mode: read
-- returns: rows
-- identifiers: deliveries
-- variant: no_deliveries
-- variant: LiteLLM_SpendLogDelivery
-- The six daily spend tables recomputed from LiteLLM_SpendLogs by LiteLLM's rules and compared with
-- the stored rows, for the UTC days [since, until): one row per key whose stored rows do not match.
-- One pass over the logs of those days only (partitions pruned, the "startTime" index used) feeds
-- all six tables; a request adds its amounts to its key, a stored row subtracts its own, and one
-- GROUP BY leaves each key's delta (recomputed - stored), so nothing is joined or sorted.
-- Rules (litellm-database.md §1.2-1.4 as corrected by §1.9): date = UTC date of "startTime"; key
-- columns '' for NULL; endpoint from call_type by LiteLLM's ROUTE_ENDPOINT_MAPPING, else '';
-- cache tokens from metadata.usage_object with Python int() truncation; api/successful/failed
-- requests exclude internal calls (Python truthiness of internal_call_origin) and billed retries
-- (billed_retry_attempt is JSON true); failure = metadata.status is exactly "failure"; timed
-- requests are successes that are not internal with request_duration_ms >= 0. Entity rows: user
-- always (NULL -> ''), team unless NULL, org unless NULL or '', end user unless NULL or '', agent
-- unless NULL, one tag row per distinct tag when request_tags is an array of strings only.
-- %(litellm_1110)s: LiteLLM 1.110's worker rules (on its outbox), where they differ: one tag row per
-- distinct string element of any request_tags array (daily_spend_entity_ids keeps an array's
-- strings), and no headroom savings from a guardrail_information array holding anything but
-- objects (build_accounting_payload drops such an array whole).
-- Requests LiteLLM cannot aggregate (metadata not an object, usage_object truthy but not an
-- object) count nowhere. Stored rows count under their key with '' for NULL (legacy rows); team
-- rows under api_key '__ptu_flat_cost__' are not derived from logs and are left out.
-- status: missing (no stored row), extra (no request), differ (a counter differs; spend within a
-- billionth is equal), legacy (equal, but NULL-key rows to merge). Counters are summed as float8:
-- exact for integers below 2^53, and far cheaper than numeric. %(first_writer)s adds model_group
-- and request_id of the first writer (earliest "endTime", then request_id in C order).
-- {deliveries}: on LiteLLM 1.110's spend-log outbox, LiteLLM_SpendLogDelivery; a request whose
-- delivery is pending or parked is left out (its log is written, its daily increment is not: the
-- worker adds it later), so a repair never adds what the worker will add again. Elsewhere the
-- empty no_deliveries. (Literal braces are doubled, as psycopg.sql reads a statement with identifiers.)
WITH no_deliveries (request_id, state) AS (SELECT NULL::text, NULL::text WHERE false),
endpoint_map (call_type, endpoint) AS (
    -- LiteLLM's ROUTE_ENDPOINT_MAPPING (litellm/proxy/route_llm_request.py): call_type -> endpoint
    -- include: daily/fragments/endpoint_map
),
request AS (
    -- One spend log, reduced to what the daily tables take from it.
    -- include: daily/fragments/request_columns
    FROM "LiteLLM_SpendLogs" AS sl
    -- include: daily/fragments/request_joins
    WHERE sl."startTime" >= %(since)s::date AND sl."startTime" < %(until)s::date
      AND NOT EXISTS (SELECT 1 FROM {deliveries} AS dl
                      WHERE dl.request_id = sl.request_id AND dl.state::text IN ('pending', 'parked'))
      -- include: daily/fragments/request_aggregable
    OFFSET 0  -- computed once per request, not once per daily row it feeds
),
entry AS (
    -- What each request adds to one key of one daily table, and what each stored row subtracts.
    -- include: daily/fragments/request_entries
    UNION ALL
    SELECT 'user', coalesce(dus.user_id, ''), dus.date, dus.api_key, coalesce(dus.model, ''),
           coalesce(dus.custom_llm_provider, ''), coalesce(dus.mcp_namespaced_tool_name, ''), coalesce(dus.endpoint, ''),
           true, (dus.user_id IS NULL OR dus.model IS NULL OR dus.custom_llm_provider IS NULL
                  OR dus.mcp_namespaced_tool_name IS NULL OR dus.endpoint IS NULL),
           -dus.prompt_tokens::float8, -dus.completion_tokens::float8, -dus.cache_read_input_tokens::float8,
           -dus.cache_creation_input_tokens::float8, -dus.compression_saved_tokens::float8, -dus.api_requests::float8,
           -dus.successful_requests::float8, -dus.failed_requests::float8, -dus.total_response_time_ms::float8,
           -dus.timed_requests::float8, -dus.spend, NULL
    FROM "LiteLLM_DailyUserSpend" AS dus
    WHERE dus.date >= to_char(%(since)s::date, 'YYYY-MM-DD') AND dus.date < to_char(%(until)s::date, 'YYYY-MM-DD')
      AND 'user' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'team', coalesce(dts.team_id, ''), dts.date, dts.api_key, coalesce(dts.model, ''),
           coalesce(dts.custom_llm_provider, ''), coalesce(dts.mcp_namespaced_tool_name, ''), coalesce(dts.endpoint, ''),
           true, (dts.team_id IS NULL OR dts.model IS NULL OR dts.custom_llm_provider IS NULL
                  OR dts.mcp_namespaced_tool_name IS NULL OR dts.endpoint IS NULL),
           -dts.prompt_tokens::float8, -dts.completion_tokens::float8, -dts.cache_read_input_tokens::float8,
           -dts.cache_creation_input_tokens::float8, -dts.compression_saved_tokens::float8, -dts.api_requests::float8,
           -dts.successful_requests::float8, -dts.failed_requests::float8, -dts.total_response_time_ms::float8,
           -dts.timed_requests::float8, -dts.spend, NULL
    FROM "LiteLLM_DailyTeamSpend" AS dts
    WHERE dts.date >= to_char(%(since)s::date, 'YYYY-MM-DD') AND dts.date < to_char(%(until)s::date, 'YYYY-MM-DD')
      AND dts.api_key <> '__ptu_flat_cost__'
      AND 'team' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'org', coalesce(dos.organization_id, ''), dos.date, dos.api_key, coalesce(dos.model, ''),
           coalesce(dos.custom_llm_provider, ''), coalesce(dos.mcp_namespaced_tool_name, ''), coalesce(dos.endpoint, ''),
           true, (dos.organization_id IS NULL OR dos.model IS NULL OR dos.custom_llm_provider IS NULL
                  OR dos.mcp_namespaced_tool_name IS NULL OR dos.endpoint IS NULL),
           -dos.prompt_tokens::float8, -dos.completion_tokens::float8, -dos.cache_read_input_tokens::float8,
           -dos.cache_creation_input_tokens::float8, -dos.compression_saved_tokens::float8, -dos.api_requests::float8,
           -dos.successful_requests::float8, -dos.failed_requests::float8, -dos.total_response_time_ms::float8,
           -dos.timed_requests::float8, -dos.spend, NULL
    FROM "LiteLLM_DailyOrganizationSpend" AS dos
    WHERE dos.date >= to_char(%(since)s::date, 'YYYY-MM-DD') AND dos.date < to_char(%(until)s::date, 'YYYY-MM-DD')
      AND 'org' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'end_user', coalesce(des.end_user_id, ''), des.date, des.api_key, coalesce(des.model, ''),
           coalesce(des.custom_llm_provider, ''), coalesce(des.mcp_namespaced_tool_name, ''), coalesce(des.endpoint, ''),
           true, (des.end_user_id IS NULL OR des.model IS NULL OR des.custom_llm_provider IS NULL
                  OR des.mcp_namespaced_tool_name IS NULL OR des.endpoint IS NULL),
           -des.prompt_tokens::float8, -des.completion_tokens::float8, -des.cache_read_input_tokens::float8,
           -des.cache_creation_input_tokens::float8, -des.compression_saved_tokens::float8, -des.api_requests::float8,
           -des.successful_requests::float8, -des.failed_requests::float8, -des.total_response_time_ms::float8,
           -des.timed_requests::float8, -des.spend, NULL
    FROM "LiteLLM_DailyEndUserSpend" AS des
    WHERE des.date >= to_char(%(since)s::date, 'YYYY-MM-DD') AND des.date < to_char(%(until)s::date, 'YYYY-MM-DD')
      AND 'end_user' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'agent', coalesce(das.agent_id, ''), das.date, das.api_key, coalesce(das.model, ''),
           coalesce(das.custom_llm_provider, ''), coalesce(das.mcp_namespaced_tool_name, ''), coalesce(das.endpoint, ''),
           true, (das.agent_id IS NULL OR das.model IS NULL OR das.custom_llm_provider IS NULL
                  OR das.mcp_namespaced_tool_name IS NULL OR das.endpoint IS NULL),
           -das.prompt_tokens::float8, -das.completion_tokens::float8, -das.cache_read_input_tokens::float8,
           -das.cache_creation_input_tokens::float8, -das.compression_saved_tokens::float8, -das.api_requests::float8,
           -das.successful_requests::float8, -das.failed_requests::float8, -das.total_response_time_ms::float8,
           -das.timed_requests::float8, -das.spend, NULL
    FROM "LiteLLM_DailyAgentSpend" AS das
    WHERE das.date >= to_char(%(since)s::date, 'YYYY-MM-DD') AND das.date < to_char(%(until)s::date, 'YYYY-MM-DD')
      AND 'agent' = ANY(%(tables)s::text[])
    UNION ALL
    SELECT 'tag', coalesce(dgs.tag, ''), dgs.date, dgs.api_key, coalesce(dgs.model, ''),
           coalesce(dgs.custom_llm_provider, ''), coalesce(dgs.mcp_namespaced_tool_name, ''), coalesce(dgs.endpoint, ''),
           true, (dgs.tag IS NULL OR dgs.model IS NULL OR dgs.custom_llm_provider IS NULL
                  OR dgs.mcp_namespaced_tool_name IS NULL OR dgs.endpoint IS NULL),
           -dgs.prompt_tokens::float8, -dgs.completion_tokens::float8, -dgs.cache_read_input_tokens::float8,
           -dgs.cache_creation_input_tokens::float8, -dgs.compression_saved_tokens::float8, -dgs.api_requests::float8,
           -dgs.successful_requests::float8, -dgs.failed_requests::float8, -dgs.total_response_time_ms::float8,
           -dgs.timed_requests::float8, -dgs.spend, NULL
    FROM "LiteLLM_DailyTagSpend" AS dgs
    WHERE dgs.date >= to_char(%(since)s::date, 'YYYY-MM-DD') AND dgs.date < to_char(%(until)s::date, 'YYYY-MM-DD')
      AND 'tag' = ANY(%(tables)s::text[])
),
keyed AS (
    SELECT e.daily, e.entity_id, e.date, e.api_key, e.model, e.custom_llm_provider, e.mcp_namespaced_tool_name,
           e.endpoint,
           count(*) FILTER (WHERE NOT e.stored) AS requests,
           count(*) FILTER (WHERE e.stored) AS stored_rows,
           count(*) FILTER (WHERE e.legacy) AS legacy_rows,
           sum(e.prompt_tokens) AS prompt_tokens,
           sum(e.completion_tokens) AS completion_tokens,
           sum(e.cache_read_input_tokens) AS cache_read_input_tokens,
           sum(e.cache_creation_input_tokens) AS cache_creation_input_tokens,
           sum(e.compression_saved_tokens) AS compression_saved_tokens,
           sum(e.api_requests) AS api_requests,
           sum(e.successful_requests) AS successful_requests,
           sum(e.failed_requests) AS failed_requests,
           sum(e.total_response_time_ms) AS total_response_time_ms,
           sum(e.timed_requests) AS timed_requests,
           sum(e.spend) AS spend,
           sum(e.spend) FILTER (WHERE NOT e.stored) AS spend_recomputed,
           min(e.writer COLLATE "C") AS writer
    FROM entry AS e
    GROUP BY e.daily, e.entity_id, e.date, e.api_key, e.model, e.custom_llm_provider, e.mcp_namespaced_tool_name,
             e.endpoint
)
SELECT k.daily, k.date, k.entity_id, k.api_key, k.model, k.custom_llm_provider, k.mcp_namespaced_tool_name,
       k.endpoint,
       CASE WHEN k.stored_rows = 0 THEN 'missing'
            WHEN k.requests = 0 THEN 'extra'
            WHEN c.differs THEN 'differ'
            ELSE 'legacy' END AS status,
       k.requests, k.stored_rows, k.legacy_rows,
       k.writer[3] AS model_group, k.writer[2] AS writer_request_id,
       coalesce(k.spend_recomputed, 0) AS spend_recomputed,
       k.prompt_tokens::bigint AS prompt_tokens, k.completion_tokens::bigint AS completion_tokens,
       k.cache_read_input_tokens::bigint AS cache_read_input_tokens,
       k.cache_creation_input_tokens::bigint AS cache_creation_input_tokens,
       k.compression_saved_tokens::bigint AS compression_saved_tokens, k.api_requests::bigint AS api_requests,
       k.successful_requests::bigint AS successful_requests, k.failed_requests::bigint AS failed_requests,
       k.total_response_time_ms::bigint AS total_response_time_ms, k.timed_requests::bigint AS timed_requests,
       k.spend
FROM keyed AS k
CROSS JOIN LATERAL (
    SELECT k.prompt_tokens <> 0 OR k.completion_tokens <> 0 OR k.cache_read_input_tokens <> 0
           OR k.cache_creation_input_tokens <> 0 OR k.compression_saved_tokens <> 0 OR k.api_requests <> 0
           OR k.successful_requests <> 0 OR k.failed_requests <> 0 OR k.total_response_time_ms <> 0
           OR k.timed_requests <> 0
           -- spend sums are floats added in another order: equal within a billionth
           OR abs(k.spend) > 1e-9 * greatest(1.0, abs(k.spend_recomputed)) AS differs
) AS c
WHERE k.stored_rows = 0 OR k.requests = 0 OR k.legacy_rows > 0 OR c.differs
ORDER BY k.daily, k.date, k.entity_id, k.api_key, k.model, k.custom_llm_provider, k.mcp_namespaced_tool_name,
         k.endpoint
