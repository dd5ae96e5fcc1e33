-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Apply counter corrections as increments (spend = spend + delta), so a proxy's increments that
-- land meanwhile survive. Keys, users and teams are guarded by the budget_reset_at they had when
-- the drift was computed: a window reset since then makes the correction stale, so it is skipped.
-- End users and organizations are reset with their budget tier, which this run has already moved
-- under the budget lock. Tags: budget/repair_tag_spend (their table is newer than this schema).
WITH d AS (
    SELECT * FROM unnest(%(entities)s::text[], %(ids)s::text[], %(deltas)s::float8[], %(guards)s::timestamp[])
        AS d(entity, id, delta, guard)
), keys AS (
    UPDATE "LiteLLM_VerificationToken" AS vt SET spend = vt.spend + d.delta
    FROM d WHERE d.entity = 'key' AND vt.token = d.id AND vt.budget_reset_at IS NOT DISTINCT FROM d.guard
    RETURNING 'key'::text AS entity, vt.token AS id
), users AS (
    UPDATE "LiteLLM_UserTable" AS ut SET spend = ut.spend + d.delta
    FROM d WHERE d.entity = 'user' AND ut.user_id = d.id AND ut.budget_reset_at IS NOT DISTINCT FROM d.guard
    RETURNING 'user'::text, ut.user_id
), teams AS (
    UPDATE "LiteLLM_TeamTable" AS tt SET spend = tt.spend + d.delta
    FROM d WHERE d.entity = 'team' AND tt.team_id = d.id AND tt.budget_reset_at IS NOT DISTINCT FROM d.guard
    RETURNING 'team'::text, tt.team_id
), end_users AS (
    UPDATE "LiteLLM_EndUserTable" AS eu SET spend = eu.spend + d.delta
    FROM d WHERE d.entity = 'end_user' AND eu.user_id = d.id
    RETURNING 'end_user'::text, eu.user_id
), orgs AS (
    UPDATE "LiteLLM_OrganizationTable" AS o SET spend = o.spend + d.delta
    FROM d WHERE d.entity = 'org' AND o.organization_id = d.id
    RETURNING 'org'::text, o.organization_id
)
SELECT * FROM keys UNION ALL SELECT * FROM users UNION ALL SELECT * FROM teams UNION ALL SELECT * FROM end_users
UNION ALL SELECT * FROM orgs
