-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- The distinct budget_duration values among the due keys, users and teams (the selections of
-- budget/due_keys, due_users and due_teams): budget sync computes each one's next boundary once,
-- and skips a table's reset statement when nothing in it is due.
SELECT DISTINCT 'key' AS entity, budget_duration AS duration
FROM "LiteLLM_VerificationToken"
WHERE budget_duration IS NOT NULL
  AND (expires IS NULL OR expires > %(now)s)
  AND (budget_reset_at IS NULL OR budget_reset_at < %(now)s)
UNION
SELECT DISTINCT 'user', budget_duration
FROM "LiteLLM_UserTable"
WHERE budget_duration IS NOT NULL AND (budget_reset_at IS NULL OR budget_reset_at < %(now)s)
UNION
SELECT DISTINCT 'team', budget_duration
FROM "LiteLLM_TeamTable"
WHERE budget_duration IS NOT NULL AND (budget_reset_at IS NULL OR budget_reset_at < %(now)s)
