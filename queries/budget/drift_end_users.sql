-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- identifiers: deliveries
-- variant: no_deliveries
-- variant: LiteLLM_SpendLogDelivery
-- End users whose spend counter differs from the spend LiteLLM_SpendLogs records for them
-- (end_user) since their budget tier's current window began (`windows`, by the tier's duration
-- and budget_reset_at; end users without a tier use `default_end_user_budget`'s). End users
-- without a windowed tier have no creation time: window_start is NULL and the caller leaves them
-- alone. `active`: a spend log of the end user starts or ends after `cutoff` (end-user requests
-- leave no other trace of activity).
-- On LiteLLM 1.110's spend-log outbox ({deliveries} = LiteLLM_SpendLogDelivery; elsewhere the empty
-- no_deliveries) a log whose delivery is pending or parked is left out: the worker has not added it
-- to the counter yet, and will.
-- `logged` is what the counter should hold once the proxies' Redis buffers are written: spend logs, plus
-- parked rows, minus increments still waiting (budget/drift_buffered; `waiting`, `parked`).
WITH no_deliveries (request_id, state) AS (SELECT NULL::text, NULL::text WHERE false),
-- include: budget/drift_windows
, entities AS (
    SELECT e.user_id AS id, e.alias AS name, e.spend, b.budget_reset_at AS guard,
           b.budget_duration IS NOT NULL AS has_duration,
           w.window_start
    FROM "LiteLLM_EndUserTable" AS e
    LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = COALESCE(e.budget_id, %(default_end_user_budget)s::text)
    LEFT JOIN windows AS w ON w.duration = b.budget_duration AND w.reset_at = b.budget_reset_at
), logged AS (
    SELECT l.end_user AS id, sum(l.spend) AS logged
    FROM "LiteLLM_SpendLogs" AS l
    JOIN entities AS ent ON ent.id = l.end_user
    WHERE (ent.window_start IS NULL OR l."startTime" >= ent.window_start)
      AND NOT EXISTS (SELECT 1 FROM {deliveries} AS dl
                      WHERE dl.request_id = l.request_id AND dl.state::text IN ('pending', 'parked'))
    GROUP BY l.end_user
)
-- include: budget/drift_buffered
, recent AS (
    SELECT DISTINCT end_user AS id FROM "LiteLLM_SpendLogs"
    WHERE "startTime" >= %(recent_from)s AND GREATEST("startTime", "endTime") >= %(cutoff)s
)
SELECT ent.id, ent.name, ent.spend, COALESCE(g.logged, 0) + COALESCE(pk.spend, 0) - COALESCE(wt.spend, 0) AS logged,
       COALESCE(wt.spend, 0) AS waiting, COALESCE(pk.spend, 0) AS parked, NULL::timestamp AS guard, ent.window_start,
       ent.has_duration AND ent.window_start IS NOT NULL AS windowed,
       EXISTS (SELECT 1 FROM recent AS r WHERE r.id = ent.id) AS active
FROM entities AS ent
LEFT JOIN logged AS g ON g.id = ent.id
LEFT JOIN waiting AS wt ON wt.id = ent.id
LEFT JOIN parked AS pk ON pk.id = ent.id
WHERE abs(COALESCE(g.logged, 0) + COALESCE(pk.spend, 0) - COALESCE(wt.spend, 0) - ent.spend) > %(min_drift)s
ORDER BY ent.id
