-- requires: 20250425182129_add_session_id
-- mode: read
-- returns: row
-- What a scrub before `until` would change (a dry run): the spend logs still holding a prompt or
-- response, and all the spend logs it walks.
SELECT count(*) FILTER (WHERE
           (s.messages IS DISTINCT FROM '{}'::jsonb
           OR s.response IS DISTINCT FROM '{}'::jsonb
           OR s.proxy_server_request IS DISTINCT FROM '{}'::jsonb
           OR s.metadata IS DISTINCT FROM (
               -- include: logs/scrubbed_metadata
           ))
       )::bigint AS rows,
       count(*)::bigint AS scanned
FROM "LiteLLM_SpendLogs" s
WHERE s."startTime" < %(until)s
