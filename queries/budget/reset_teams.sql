-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Apply the planned window resets of teams: the rows budget/due_teams locked, found again by the
-- same predicate. This transaction holds their row locks, so the spend subtracted is exactly the
-- spend the plan read and their budget_reset_at is still the one it read: no increment is lost
-- and no window another run or a proxy's job moved is reset again. Spend drops to the new
-- window's carry-over (0, or with `rollover` the overage over max_budget); a row without a
-- budget_reset_at keeps its spend. budget_reset_at moves to the next boundary of the row's
-- duration (`durations` -> `next_reset_at`, computed once per distinct duration; rows whose
-- duration has none are not in the list). The caller compares the row count with its plan.
UPDATE "LiteLLM_TeamTable" AS t
SET spend = t.spend - CASE
        WHEN t.budget_reset_at IS NULL THEN 0
        WHEN %(rollover)s AND t.max_budget IS NOT NULL THEN t.spend - GREATEST(0, t.spend - t.max_budget)
        ELSE t.spend
    END,
    budget_reset_at = b.next_reset_at
FROM unnest(%(durations)s::text[], %(next_reset_at)s::timestamp[]) AS b(duration, next_reset_at)
WHERE t.budget_duration = b.duration
  AND (t.budget_reset_at IS NULL OR t.budget_reset_at < %(now)s)
