-- requires: 20251011084309_add_tag_table
-- mode: write
-- returns: rows
-- Give end users and tags without a budget tier one of their own holding their declared limits
-- (as LiteLLM's /customer/new and /tag/new do), and link it while they still have none.
WITH d AS (
    SELECT * FROM unnest(%(entities)s::text[], %(owner_ids)s::text[], %(ids)s::text[], %(max_budget)s::float8[],
                         %(soft_budget)s::float8[], %(budget_duration)s::text[], %(budget_reset_at)s::timestamp[],
                         %(tpm_limit)s::bigint[], %(rpm_limit)s::bigint[])
        AS d(entity, owner_id, id, max_budget, soft_budget, budget_duration, budget_reset_at, tpm_limit, rpm_limit)
), created AS (
    INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, soft_budget, budget_duration, budget_reset_at,
                                       tpm_limit, rpm_limit, created_by, updated_by)
    SELECT id, max_budget, soft_budget, budget_duration, budget_reset_at, tpm_limit, rpm_limit, 'dbctl', 'dbctl'
    FROM d
    RETURNING budget_id
), end_users AS (
    UPDATE "LiteLLM_EndUserTable" AS eu SET budget_id = c.budget_id
    FROM d JOIN created AS c ON c.budget_id = d.id
    WHERE d.entity = 'end_user' AND eu.user_id = d.owner_id AND eu.budget_id IS NULL
    RETURNING eu.user_id AS owner_id
), tags AS (
    UPDATE "LiteLLM_TagTable" AS tg SET budget_id = c.budget_id, updated_at = now() AT TIME ZONE 'UTC'
    FROM d JOIN created AS c ON c.budget_id = d.id
    WHERE d.entity = 'tag' AND tg.tag_name = d.owner_id AND tg.budget_id IS NULL
    RETURNING tg.tag_name
)
SELECT 'end_user' AS entity, owner_id FROM end_users UNION ALL SELECT 'tag', tag_name FROM tags
