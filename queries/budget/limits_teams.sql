-- requires: 20260205144610_add_soft_budget_to_team_table
-- mode: write
-- returns: rows
-- Teams named in a budgets file by team_id or by team_alias (`ident` says which matched), with the
-- limits budget sync manages, locked in team_id order.
SELECT team_id AS id, CASE WHEN team_id = ANY(%(idents)s::text[]) THEN team_id ELSE team_alias END AS ident,
       team_alias AS name, max_budget, soft_budget, budget_duration, budget_reset_at, tpm_limit, rpm_limit
FROM "LiteLLM_TeamTable"
WHERE team_id = ANY(%(idents)s::text[]) OR team_alias = ANY(%(aliases)s::text[])
ORDER BY team_id
FOR NO KEY UPDATE
