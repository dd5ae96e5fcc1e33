-- requires: 20260401000000_add_budget_limits
-- mode: write
-- returns: rows
-- identifiers: table, id
-- variant: LiteLLM_VerificationToken, token
-- variant: LiteLLM_TeamTable, team_id
-- Write back the budget_limits of keys or teams whose windows moved: rows locked in key order first
-- (no deadlock against a proxy's sorted flush), each written only if its budget_limits is still the
-- value read (`old`, from budget/limit_windows_keys or budget/limit_windows_teams), so a concurrent
-- edit is never overwritten; returns the ids written.
WITH d AS (
    SELECT * FROM unnest(%(ids)s::text[], %(old)s::jsonb[], %(new)s::jsonb[]) AS d(id, old, new)
), locked AS MATERIALIZED (
    SELECT {id} FROM {table} WHERE {id} = ANY(%(ids)s::text[]) ORDER BY {id} FOR NO KEY UPDATE
)
UPDATE {table} AS t SET budget_limits = d.new
FROM d JOIN locked AS l ON l.{id} = d.id
WHERE t.{id} = d.id AND t.budget_limits = d.old
RETURNING t.{id} AS id
