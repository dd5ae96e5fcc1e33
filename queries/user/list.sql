-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Users, optionally in a team (by UserTable.teams), an organization (by membership), with an email
-- containing text (case-insensitive) or with a role.
SELECT u.user_id, u.user_email, u.user_alias, u.user_role, u.teams, u.spend, u.max_budget, u.budget_duration,
       u.budget_reset_at, u.sso_user_id, u.created_at
FROM "LiteLLM_UserTable" AS u
WHERE (%(team_id)s::text IS NULL OR %(team_id)s = ANY(u.teams))
  AND (%(org_id)s::text IS NULL OR EXISTS (
        SELECT 1 FROM "LiteLLM_OrganizationMembership" AS m
        WHERE m.user_id = u.user_id AND m.organization_id = %(org_id)s))
  AND (%(email)s::text IS NULL OR strpos(lower(coalesce(u.user_email, '')), lower(%(email)s)) > 0)
  AND (%(role)s::text IS NULL OR u.user_role = %(role)s)
ORDER BY coalesce(u.user_email, u.user_id), u.user_id
LIMIT %(limit)s
