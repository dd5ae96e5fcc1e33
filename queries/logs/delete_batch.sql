-- requires: 20250326162113_baseline
-- mode: write
-- returns: row
-- One prune batch: the next `batch` spend logs of [since, until) in ("startTime", request_id) order
-- after the key (after_time, after_id), deleted by their key (request_id, "startTime" — the
-- primary key of LiteLLM's partitioned layout too). Walking the ("startTime", request_id) index from
-- the last key deleted never rereads the dead entries earlier batches left. Returns how many went
-- and the last key, where the next batch starts.
WITH doomed AS (
    SELECT s.request_id, s."startTime"
    FROM "LiteLLM_SpendLogs" s
    WHERE s."startTime" >= %(since)s AND s."startTime" < %(until)s
      AND (s."startTime", s.request_id) > (%(after_time)s, %(after_id)s)
    ORDER BY s."startTime", s.request_id
    LIMIT %(batch)s
), gone AS (
    DELETE FROM "LiteLLM_SpendLogs" d
    USING doomed
    WHERE d.request_id = doomed.request_id AND d."startTime" = doomed."startTime"
    RETURNING d.request_id
), last_key AS (
    SELECT doomed."startTime" AS last_time, doomed.request_id AS last_id
    FROM doomed
    ORDER BY doomed."startTime" DESC, doomed.request_id DESC
    LIMIT 1
)
SELECT (SELECT count(*) FROM gone)::bigint AS affected,
       (SELECT count(*) FROM doomed)::bigint AS scanned,
       (SELECT last_time FROM last_key) AS last_time,
       (SELECT last_id FROM last_key) AS last_id
