-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- identifiers: table
-- variant: LiteLLM_UserTable
-- variant: LiteLLM_TeamTable
-- Reset the due budget windows of users or teams (the selection of budget/due_users or
-- budget/due_teams, which budget sync has just read with `lock`: every due row is locked, in key
-- order, by this transaction). Because the rows are held, this plain UPDATE finds exactly those rows,
-- never waits, and cannot deadlock a proxy's sorted spend flush; the spend it subtracts is the spend
-- it locked (an increment that arrives waits, then lands in the new window). Spend drops to the new
-- window's carry-over (0, or with `rollover` the overage over max_budget); a row without a
-- budget_reset_at keeps its spend. budget_reset_at moves to the next boundary of the row's duration
-- (`durations` -> `next_reset_at`, computed once per distinct duration; rows whose duration has none
-- are not in the list and stay as they are). The caller compares the rowcount with the rows it
-- locked: a due row committed in between makes them differ, and the transaction is planned again.
-- Keys have their own statement (budget/reset_keys): an expired key is never due.
UPDATE {table} AS t
SET spend = t.spend - CASE
        WHEN t.budget_reset_at IS NULL THEN 0
        WHEN %(rollover)s AND t.max_budget IS NOT NULL THEN t.spend - GREATEST(0, t.spend - t.max_budget)
        ELSE t.spend
    END,
    budget_reset_at = b.next_reset_at
FROM unnest(%(durations)s::text[], %(next_reset_at)s::timestamp[]) AS b(duration, next_reset_at)
WHERE t.budget_duration = b.duration
  AND (t.budget_reset_at IS NULL OR t.budget_reset_at < %(now)s)
