-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Reset the due budget windows of keys in one statement (the selection of budget/due_keys).
-- `due` locks the rows in token order first, so this never waits on a row it has not locked and
-- cannot deadlock a proxy's spend flush, which locks in the same order; a row another run or a
-- proxy's job reset meanwhile is no longer due when its lock is granted and drops out, so no
-- window is reset twice. Spend drops by the spend read under the lock to the new window's
-- carry-over (0, or with `rollover` the overage over max_budget); a row without a budget_reset_at
-- keeps its spend. budget_reset_at moves to the next boundary of the row's duration (`durations`
-- -> `next_reset_at`, computed once per distinct duration; rows whose duration has none are not
-- in the list and stay as they are). Returns what was reset, as budget/due_keys reports it.
WITH due AS MATERIALIZED (
    SELECT token, spend, budget_reset_at
    FROM "LiteLLM_VerificationToken"
    WHERE budget_duration = ANY(%(durations)s::text[])
      AND (expires IS NULL OR expires > %(now)s)
      AND (budget_reset_at IS NULL OR budget_reset_at < %(now)s)
    ORDER BY token
    FOR NO KEY UPDATE
)
UPDATE "LiteLLM_VerificationToken" AS t
SET spend = t.spend - CASE
        WHEN due.budget_reset_at IS NULL THEN 0
        WHEN %(rollover)s AND t.max_budget IS NOT NULL THEN due.spend - GREATEST(0, due.spend - t.max_budget)
        ELSE due.spend
    END,
    budget_reset_at = b.next_reset_at
FROM due, unnest(%(durations)s::text[], %(next_reset_at)s::timestamp[]) AS b(duration, next_reset_at)
WHERE t.token = due.token AND t.budget_duration = b.duration
RETURNING t.token AS id, COALESCE(t.key_alias, t.key_name) AS name, due.spend, t.max_budget, t.budget_duration,
          (extract(epoch FROM due.budget_reset_at) * 1000000)::bigint AS reset_us
