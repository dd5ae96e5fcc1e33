-- requires: 20251011084309_add_tag_table
-- mode: read
-- returns: rows
-- identifiers: deliveries
-- variant: no_deliveries
-- variant: LiteLLM_SpendLogDelivery
-- Tags (LiteLLM_TagTable rows) whose spend counter differs from the spend LiteLLM_SpendLogs records
-- for them since their budget tier's current window began (`windows`, by the tier's duration and
-- budget_reset_at; no tier, or a tier without a duration: all time, counted from creation).
-- A request counts once per occurrence of the tag in its request_tags, as LiteLLM increments the
-- tag counter (litellm-database.md §1.4: no de-duplication there, unlike the daily tag table);
-- non-string elements are not tags. `windowed` is false when a duration has no usable window.
-- `active`: a spend log carrying the tag starts or ends after `cutoff`.
-- On LiteLLM 1.110's spend-log outbox ({deliveries} = LiteLLM_SpendLogDelivery; elsewhere the empty
-- no_deliveries) a log whose delivery is pending or parked is left out: the worker has not added it
-- to the counter yet, and will.
-- `logged` is what the counter should hold once the proxies' Redis buffers are written: spend logs, plus
-- parked rows, minus increments still waiting (budget/drift_buffered; `waiting`, `parked`).
WITH no_deliveries (request_id, state) AS (SELECT NULL::text, NULL::text WHERE false),
-- include: budget/drift_windows
, entities AS (
    SELECT tg.tag_name AS id, tg.tag_name AS name, tg.spend,
           b.budget_duration IS NOT NULL AS has_duration,
           w.window_start, tg.created_at
    FROM "LiteLLM_TagTable" AS tg
    LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = tg.budget_id
    LEFT JOIN windows AS w ON w.duration = b.budget_duration AND w.reset_at = b.budget_reset_at
), tagged AS (
    SELECT t.tag, l.spend, l."startTime", l."endTime"
    FROM "LiteLLM_SpendLogs" AS l
    CROSS JOIN LATERAL jsonb_array_elements(l.request_tags) AS e(element)
    CROSS JOIN LATERAL (SELECT e.element #>> '{{}}' AS tag) AS t
    WHERE jsonb_typeof(l.request_tags) = 'array' AND jsonb_typeof(e.element) = 'string'
      AND NOT EXISTS (SELECT 1 FROM {deliveries} AS dl
                      WHERE dl.request_id = l.request_id AND dl.state::text IN ('pending', 'parked'))
), logged AS (
    SELECT ent.id, sum(t.spend) AS logged
    FROM tagged AS t
    JOIN entities AS ent ON ent.id = t.tag
    WHERE ent.window_start IS NULL OR t."startTime" >= ent.window_start
    GROUP BY ent.id
)
-- include: budget/drift_buffered
, recent AS (
    SELECT DISTINCT tag AS id FROM tagged
    WHERE "startTime" >= %(recent_from)s AND GREATEST("startTime", "endTime") >= %(cutoff)s
)
SELECT ent.id, ent.name, ent.spend, COALESCE(g.logged, 0) + COALESCE(pk.spend, 0) - COALESCE(wt.spend, 0) AS logged,
       COALESCE(wt.spend, 0) AS waiting, COALESCE(pk.spend, 0) AS parked, NULL::timestamp AS guard,
       CASE WHEN ent.has_duration THEN ent.window_start ELSE ent.created_at END AS window_start,
       ent.has_duration = (ent.window_start IS NOT NULL) AS windowed,
       EXISTS (SELECT 1 FROM recent AS r WHERE r.id = ent.id) AS active
FROM entities AS ent
LEFT JOIN logged AS g ON g.id = ent.id
LEFT JOIN waiting AS wt ON wt.id = ent.id
LEFT JOIN parked AS pk ON pk.id = ent.id
WHERE abs(COALESCE(g.logged, 0) + COALESCE(pk.spend, 0) - COALESCE(wt.spend, 0) - ent.spend) > %(min_drift)s
ORDER BY ent.id
