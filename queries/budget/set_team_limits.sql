-- requires: 20260205144610_add_soft_budget_to_team_table
-- mode: write
-- returns: rowcount
-- Write declared limits to teams (rows locked by budget/limits_teams). Limit columns are not
-- written by a proxy, so these are plain sets; spend is not touched.
UPDATE "LiteLLM_TeamTable" AS t
SET max_budget = d.max_budget, soft_budget = d.soft_budget, budget_duration = d.budget_duration,
    budget_reset_at = d.budget_reset_at, tpm_limit = d.tpm_limit, rpm_limit = d.rpm_limit,
    updated_at = now() AT TIME ZONE 'UTC'
FROM unnest(%(ids)s::text[], %(max_budget)s::float8[], %(soft_budget)s::float8[], %(budget_duration)s::text[],
            %(budget_reset_at)s::timestamp[], %(tpm_limit)s::bigint[], %(rpm_limit)s::bigint[])
    AS d(id, max_budget, soft_budget, budget_duration, budget_reset_at, tpm_limit, rpm_limit)
WHERE t.team_id = d.id
