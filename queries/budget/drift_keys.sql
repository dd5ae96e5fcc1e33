-- requires: 20260218231534_add_last_active_to_key_table
-- mode: read
-- returns: rows
-- identifiers: deliveries
-- variant: no_deliveries
-- variant: LiteLLM_SpendLogDelivery
-- Keys whose spend counter differs from the spend LiteLLM_SpendLogs records for them (api_key)
-- since their current window began (`windows`, by duration and budget_reset_at), the key's own
-- window or else its budget tier's; no duration: all time, counted from the key's creation.
-- `windowed` is false when a duration has no window (no budget_reset_at, a duration without a
-- length, or a pair missing from `windows`). `active`: used since `cutoff` (last_active, or a
-- spend log starting or ending after it), so its latest logs may not be written yet.
-- On LiteLLM 1.110's spend-log outbox ({deliveries} = LiteLLM_SpendLogDelivery; elsewhere the empty
-- no_deliveries) a log whose delivery is pending or parked is left out: the worker has not added it
-- to the counter yet, and will.
-- `logged` is what the counter should hold once the proxies' Redis buffers are written: spend logs, plus
-- parked rows, minus increments still waiting (budget/drift_buffered; `waiting`, `parked`).
WITH no_deliveries (request_id, state) AS (SELECT NULL::text, NULL::text WHERE false),
-- include: budget/drift_windows
, entities AS (
    SELECT k.token AS id, COALESCE(k.key_alias, k.key_name) AS name, k.spend, k.budget_reset_at AS guard,
           COALESCE(k.budget_duration, b.budget_duration) IS NOT NULL AS has_duration, w.window_start,
           k.created_at, COALESCE(k.last_active >= %(cutoff)s, false) AS used_lately
    FROM "LiteLLM_VerificationToken" AS k
    LEFT JOIN "LiteLLM_BudgetTable" AS b ON k.budget_duration IS NULL AND b.budget_id = k.budget_id
    LEFT JOIN windows AS w ON w.duration = COALESCE(k.budget_duration, b.budget_duration)
        AND w.reset_at = CASE WHEN k.budget_duration IS NOT NULL THEN k.budget_reset_at ELSE b.budget_reset_at END
), logged AS (
    SELECT l.api_key AS id, sum(l.spend) AS logged
    FROM "LiteLLM_SpendLogs" AS l
    JOIN entities AS ent ON ent.id = l.api_key
    WHERE (ent.window_start IS NULL OR l."startTime" >= ent.window_start)
      AND NOT EXISTS (SELECT 1 FROM {deliveries} AS dl
                      WHERE dl.request_id = l.request_id AND dl.state::text IN ('pending', 'parked'))
    GROUP BY l.api_key
)
-- include: budget/drift_buffered
, recent AS (
    SELECT DISTINCT api_key AS id FROM "LiteLLM_SpendLogs"
    WHERE "startTime" >= %(recent_from)s AND GREATEST("startTime", "endTime") >= %(cutoff)s
)
SELECT ent.id, ent.name, ent.spend, COALESCE(g.logged, 0) + COALESCE(pk.spend, 0) - COALESCE(wt.spend, 0) AS logged,
       COALESCE(wt.spend, 0) AS waiting, COALESCE(pk.spend, 0) AS parked, ent.guard,
       CASE WHEN ent.has_duration THEN ent.window_start ELSE ent.created_at END AS window_start,
       ent.has_duration = (ent.window_start IS NOT NULL) AS windowed,
       ent.used_lately OR EXISTS (SELECT 1 FROM recent AS r WHERE r.id = ent.id) AS active
FROM entities AS ent
LEFT JOIN logged AS g ON g.id = ent.id
LEFT JOIN waiting AS wt ON wt.id = ent.id
LEFT JOIN parked AS pk ON pk.id = ent.id
WHERE abs(COALESCE(g.logged, 0) + COALESCE(pk.spend, 0) - COALESCE(wt.spend, 0) - ent.spend) > %(min_drift)s
ORDER BY ent.id
