-- requires: 20250326162113_baseline
-- mode: fragment
-- Spend on its way to the counters, read from the proxies' Redis (spend/buffer.py; empty arrays
-- without --redis-url): `waiting(id, spend)`, increments in litellm_spend_update_buffer that the
-- lock holder has not applied yet (they will be added to the counter, so they are not drift), and
-- `parked(id, spend)`, spend-log rows parked in litellm_spend_logs_buffer after a failed write,
-- inside the entity's window and not in LiteLLM_SpendLogs yet (they will be written). A counter is
-- right when it equals logged + parked - waiting. Needs the statement's `entities(id, window_start)`
-- and continues its WITH list: `, waiting AS (...), parked AS (...)`.
, waiting AS (
    SELECT w.id, sum(w.spend) AS spend
    FROM unnest(%(waiting_ids)s::text[], %(waiting_spend)s::float8[]) AS w(id, spend)
    GROUP BY w.id
), parked AS (
    SELECT p.id, sum(p.spend) AS spend
    FROM unnest(%(parked_ids)s::text[], %(parked_spend)s::float8[], %(parked_starts)s::timestamp[],
                %(parked_requests)s::text[]) AS p(id, spend, start, request_id)
    JOIN entities AS ent ON ent.id = p.id
    WHERE (ent.window_start IS NULL OR p.start >= ent.window_start)
      AND NOT EXISTS (SELECT 1 FROM "LiteLLM_SpendLogs" AS l WHERE l.request_id = p.request_id)
    GROUP BY p.id
)
