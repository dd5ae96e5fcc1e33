-- requires: 20260916000000_add_key_total_spend
-- mode: read
-- returns: row
-- `key info`: one key with its owner (user_id, email), team and organization (ids and aliases), budget
-- tier, budgets and their windows (budget_limits), spend, limits, expiry, last use (last_active, which
-- the proxies' spend flush writes) and blocked state. Never a raw key: the database has none.
SELECT k.token, k.key_alias, k.key_name, k.key_type, k.user_id, u.user_email, k.team_id, t.team_alias,
       coalesce(k.organization_id, t.organization_id) AS organization_id, o.organization_alias,
       k.spend, k.total_spend, k.max_budget, k.budget_duration, k.budget_reset_at, k.budget_limits, k.budget_id,
       b.max_budget AS tier_max_budget, b.budget_duration AS tier_budget_duration,
       b.budget_reset_at AS tier_budget_reset_at, k.soft_budget_cooldown, k.model_max_budget, k.model_spend,
       k.tpm_limit, k.rpm_limit, k.tpd_limit, k.max_parallel_requests, k.models, k.allowed_routes, k.metadata,
       k.expires, (k.expires IS NOT NULL AND k.expires <= %(now)s::timestamp) AS expired, k.last_active,
       coalesce(k.blocked, false) AS blocked, k.created_at, k.created_by, k.updated_at, k.updated_by,
       k.settings_updated_at, k.rotation_count, k.last_rotation_at
FROM "LiteLLM_VerificationToken" AS k
LEFT JOIN "LiteLLM_UserTable" AS u ON u.user_id = k.user_id
LEFT JOIN "LiteLLM_TeamTable" AS t ON t.team_id = k.team_id
LEFT JOIN "LiteLLM_OrganizationTable" AS o ON o.organization_id = coalesce(k.organization_id, t.organization_id)
LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = k.budget_id
WHERE k.token = %(token)s
