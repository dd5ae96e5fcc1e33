-- requires: 20260401000000_add_budget_limits
-- mode: write
-- returns: rows
-- Write back the budget_limits of keys whose windows moved: rows locked in token order first (no
-- deadlock against a proxy's sorted flush), each written only if its budget_limits is still the
-- value read (`old`), so a concurrent edit is never overwritten; returns the ids written.
WITH d AS (
    SELECT * FROM unnest(%(ids)s::text[], %(old)s::jsonb[], %(new)s::jsonb[]) AS d(id, old, new)
), locked AS MATERIALIZED (
    SELECT token FROM "LiteLLM_VerificationToken" WHERE token = ANY(%(ids)s::text[]) ORDER BY token FOR NO KEY UPDATE
)
UPDATE "LiteLLM_VerificationToken" AS t SET budget_limits = d.new
FROM d JOIN locked AS l ON l.token = d.id
WHERE t.token = d.id AND t.budget_limits = d.old
RETURNING t.token AS id
