-- requires: 20260401000000_add_budget_limits
-- mode: write
-- returns: rows
-- Write back the budget_limits of teams whose windows moved: rows locked in team_id order first (no
-- deadlock against a proxy's sorted flush), each written only if its budget_limits is still the
-- value read (`old`), so a concurrent edit is never overwritten; returns the ids written.
WITH d AS (
    SELECT * FROM unnest(%(ids)s::text[], %(old)s::jsonb[], %(new)s::jsonb[]) AS d(id, old, new)
), locked AS MATERIALIZED (
    SELECT team_id FROM "LiteLLM_TeamTable" WHERE team_id = ANY(%(ids)s::text[]) ORDER BY team_id FOR NO KEY UPDATE
)
UPDATE "LiteLLM_TeamTable" AS t SET budget_limits = d.new
FROM d JOIN locked AS l ON l.team_id = d.id
WHERE t.team_id = d.id AND t.budget_limits = d.old
RETURNING t.team_id AS id
