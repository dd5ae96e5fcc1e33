-- requires: 20250425182129_add_session_id
-- mode: write
-- returns: row
-- One scrub batch: the next `batch` spend logs before `until` in ("startTime", request_id) order
-- after the key (after_time, after_id); of those, the ones still holding a prompt or response get the
-- body columns blanked to their defaults ('{}') and the bodies taken out of metadata. Spend, tokens,
-- ids, times, tags and the rest stay. Returns how many were changed, how many were looked at and
-- the last key, where the next batch starts.
WITH window_rows AS (
    SELECT w.request_id, w."startTime"
    FROM "LiteLLM_SpendLogs" w
    WHERE w."startTime" >= %(since)s AND w."startTime" < %(until)s
      AND (w."startTime", w.request_id) > (%(after_time)s, %(after_id)s)
    ORDER BY w."startTime", w.request_id
    LIMIT %(batch)s
), changed AS (
    UPDATE "LiteLLM_SpendLogs" s
    SET messages = '{}'::jsonb,
        response = '{}'::jsonb,
        proxy_server_request = '{}'::jsonb,
        metadata = (
            -- include: logs/scrubbed_metadata
        )
    FROM window_rows
    WHERE s.request_id = window_rows.request_id AND s."startTime" = window_rows."startTime"
      AND
          (s.messages IS DISTINCT FROM '{}'::jsonb
           OR s.response IS DISTINCT FROM '{}'::jsonb
           OR s.proxy_server_request IS DISTINCT FROM '{}'::jsonb
           OR s.metadata IS DISTINCT FROM (
               -- include: logs/scrubbed_metadata
           ))
    RETURNING s.request_id
), last_key AS (
    SELECT window_rows."startTime" AS last_time, window_rows.request_id AS last_id
    FROM window_rows
    ORDER BY window_rows."startTime" DESC, window_rows.request_id DESC
    LIMIT 1
)
SELECT (SELECT count(*) FROM changed)::bigint AS affected,
       (SELECT count(*) FROM window_rows)::bigint AS scanned,
       (SELECT last_time FROM last_key) AS last_time,
       (SELECT last_id FROM last_key) AS last_id
