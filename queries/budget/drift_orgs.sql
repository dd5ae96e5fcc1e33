-- requires: 20260218231534_add_last_active_to_key_table
-- mode: read
-- returns: rows
-- identifiers: deliveries
-- variant: no_deliveries
-- variant: LiteLLM_SpendLogDelivery
-- Organizations whose spend counter differs from the spend LiteLLM_SpendLogs records for them
-- (organization_id, which LiteLLM fills from the key's organization, the id its counter is
-- incremented by) since their budget tier's current window began (`windows`, by the tier's duration
-- and budget_reset_at; a tier without a duration: all time, counted from creation). `windowed` is
-- false when a duration has no window. `active`: a spend log of the organization starts
-- or ends after `cutoff`, or one of its keys (its own, or its teams') was used since then.
-- On LiteLLM 1.110's spend-log outbox ({deliveries} = LiteLLM_SpendLogDelivery; elsewhere the empty
-- no_deliveries) a log whose delivery is pending or parked is left out: the worker has not added it
-- to the counter yet, and will.
-- `logged` is what the counter should hold once the proxies' Redis buffers are written: spend logs, plus
-- parked rows, minus increments still waiting (budget/drift_buffered; `waiting`, `parked`).
WITH no_deliveries (request_id, state) AS (SELECT NULL::text, NULL::text WHERE false),
-- include: budget/drift_windows
, entities AS (
    SELECT o.organization_id AS id, o.organization_alias AS name, o.spend,
           b.budget_duration IS NOT NULL AS has_duration,
           w.window_start, o.created_at
    FROM "LiteLLM_OrganizationTable" AS o
    LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = o.budget_id
    LEFT JOIN windows AS w ON w.duration = b.budget_duration AND w.reset_at = b.budget_reset_at
), logged AS (
    SELECT l.organization_id AS id, sum(l.spend) AS logged
    FROM "LiteLLM_SpendLogs" AS l
    JOIN entities AS ent ON ent.id = l.organization_id
    WHERE (ent.window_start IS NULL OR l."startTime" >= ent.window_start)
      AND NOT EXISTS (SELECT 1 FROM {deliveries} AS dl
                      WHERE dl.request_id = l.request_id AND dl.state::text IN ('pending', 'parked'))
    GROUP BY l.organization_id
)
-- include: budget/drift_buffered
, recent AS (
    SELECT organization_id AS id FROM "LiteLLM_SpendLogs"
    WHERE "startTime" >= %(recent_from)s AND GREATEST("startTime", "endTime") >= %(cutoff)s
    UNION
    SELECT COALESCE(k.organization_id, t.organization_id)
    FROM "LiteLLM_VerificationToken" AS k
    LEFT JOIN "LiteLLM_TeamTable" AS t ON t.team_id = k.team_id
    WHERE k.last_active >= %(cutoff)s
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
