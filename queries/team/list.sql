-- requires: 20260205144610_add_soft_budget_to_team_table
-- mode: read
-- returns: rows
-- Teams with member count, spend and budget, optionally in one organization or with an alias containing text.
SELECT t.team_id, t.team_alias, t.organization_id,
       CASE WHEN jsonb_typeof(t.members_with_roles) = 'array' THEN jsonb_array_length(t.members_with_roles) ELSE 0 END
           AS members,
       t.spend, t.max_budget, t.soft_budget, t.budget_duration, t.budget_reset_at, t.models, t.tpm_limit, t.rpm_limit,
       t.blocked, t.created_at
FROM "LiteLLM_TeamTable" AS t
WHERE (%(org)s::text IS NULL OR t.organization_id = %(org)s)
  AND (%(alias)s::text IS NULL OR strpos(lower(coalesce(t.team_alias, '')), lower(%(alias)s)) > 0)
ORDER BY t.team_alias NULLS LAST, t.team_id
LIMIT %(limit)s
