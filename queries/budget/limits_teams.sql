-- requires: 20260205144610_add_soft_budget_to_team_table
-- mode: write
-- returns: rows
-- Teams a budgets file may name (%(refs)s), by team_id or team_alias, with the limits budget sync
-- manages, locked in team_id order. The caller picks the one each reference names (common.identities).
SELECT team_id AS id, team_alias AS name, max_budget, soft_budget, budget_duration, budget_reset_at, tpm_limit,
       rpm_limit
FROM "LiteLLM_TeamTable"
WHERE team_id = ANY(%(refs)s::text[]) OR team_alias = ANY(%(refs)s::text[])
ORDER BY team_id
FOR NO KEY UPDATE
