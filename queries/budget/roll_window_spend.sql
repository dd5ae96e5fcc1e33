-- requires: 20260804162853_add_budget_window_spend_table
-- mode: write
-- returns: rows
-- Roll the LiteLLM_BudgetWindowSpend rows of budget_limits windows that were reset, as LiteLLM's
-- reset job does (litellm-database.md §2.3): window_start moves to the new window's start and
-- spend to 0, or with `rollover` to the overage over the window's max_budget. Only rows whose
-- window_start is older move, so a row a proxy already rolled is left alone. Rows are locked in key
-- order first; the spend subtracted is the spend read under that lock. Returns old and new spend.
WITH d AS (
    SELECT * FROM unnest(%(entity_types)s::text[], %(entity_ids)s::text[], %(durations)s::text[],
                         %(starts)s::timestamp[], %(max_budgets)s::float8[])
        AS d(entity_type, entity_id, window_duration, window_start, max_budget)
), w AS MATERIALIZED (
    SELECT s.entity_type, s.entity_id, s.window_duration, s.spend, d.window_start, d.max_budget
    FROM "LiteLLM_BudgetWindowSpend" AS s
    JOIN d ON d.entity_type = s.entity_type AND d.entity_id = s.entity_id AND d.window_duration = s.window_duration
    WHERE s.window_start < d.window_start
    ORDER BY s.entity_type, s.entity_id, s.window_duration
    FOR NO KEY UPDATE OF s
)
UPDATE "LiteLLM_BudgetWindowSpend" AS s
SET window_start = w.window_start,
    spend = s.spend - w.spend + CASE WHEN %(rollover)s AND w.max_budget IS NOT NULL
                                     THEN GREATEST(0, w.spend - w.max_budget) ELSE 0 END,
    updated_at = %(now)s
FROM w
WHERE s.entity_type = w.entity_type AND s.entity_id = w.entity_id AND s.window_duration = w.window_duration
RETURNING s.entity_type, s.entity_id, s.window_duration, w.spend AS old_spend, s.spend AS new_spend
