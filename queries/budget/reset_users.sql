-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Apply planned window resets to users. Spend drops by the decrement computed from the spend that
-- was read (spend - new window's carry-over), never to an absolute value, so increments landing
-- meanwhile survive; budget_reset_at moves to the next boundary. Each row is guarded by the
-- budget_reset_at it had when planned: a window another run or a proxy's reset job already moved
-- is left alone. Rows planned with a NULL budget_reset_at get one and a decrement of 0.
UPDATE "LiteLLM_UserTable" AS t
SET spend = t.spend - d.decrement,
    budget_reset_at = d.new_reset_at
FROM unnest(%(ids)s::text[], %(decrements)s::float8[], %(old_reset_at)s::timestamp[], %(new_reset_at)s::timestamp[])
    AS d(id, decrement, old_reset_at, new_reset_at)
WHERE t.user_id = d.id
  AND t.budget_reset_at IS NOT DISTINCT FROM d.old_reset_at
RETURNING t.user_id AS id
