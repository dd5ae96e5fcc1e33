-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- identifiers: table, id, name
-- variant: LiteLLM_VerificationToken, token, key_alias
-- variant: LiteLLM_UserTable, user_id, user_email
-- variant: LiteLLM_TeamTable, team_id, team_alias
-- variant: LiteLLM_OrganizationTable, organization_id, organization_alias
-- variant: LiteLLM_EndUserTable, user_id, alias
-- One entity's spend and window, for `budget reset`: the row whose id is %(id)s, or (end users
-- resolved by alias) whose name is %(alias)s. `budget reset` reads it with `lock` (FOR NO KEY UPDATE:
-- a proxy's increment waits, then lands on the reset spend). budget_duration, budget_reset_at and
-- budget_limits are read through to_jsonb, NULL for tables without them (organizations and end users
-- keep their window on a budget tier; budget_limits came with migration 20260401000000).
SELECT t.{id} AS id, t.{name} AS name, t.spend,
       to_jsonb(t) ->> 'budget_duration' AS budget_duration,
       (to_jsonb(t) ->> 'budget_reset_at')::timestamp AS budget_reset_at,
       to_jsonb(t) -> 'budget_limits' AS budget_limits
FROM {table} AS t
WHERE t.{id} = %(id)s OR t.{name} = %(alias)s
ORDER BY t.{id}
