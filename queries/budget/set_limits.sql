-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- identifiers: table, id
-- variant: LiteLLM_VerificationToken, token
-- variant: LiteLLM_UserTable, user_id
-- Write declared limits to keys or users (rows locked by budget/limits_keys, budget/limits_users),
-- which have no soft_budget column. Limit columns are not written by a proxy, so these are plain
-- sets; spend is not touched. Teams and budget tiers: budget/set_team_limits, budget/set_budget_limits.
UPDATE {table} AS t
SET max_budget = d.max_budget, budget_duration = d.budget_duration, budget_reset_at = d.budget_reset_at,
    tpm_limit = d.tpm_limit, rpm_limit = d.rpm_limit, updated_at = now() AT TIME ZONE 'UTC'
FROM unnest(%(ids)s::text[], %(max_budget)s::float8[], %(budget_duration)s::text[],
            %(budget_reset_at)s::timestamp[], %(tpm_limit)s::bigint[], %(rpm_limit)s::bigint[])
    AS d(id, max_budget, budget_duration, budget_reset_at, tpm_limit, rpm_limit)
WHERE t.{id} = d.id
