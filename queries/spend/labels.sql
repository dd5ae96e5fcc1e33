-- requires: 20251219110931_add_deleted_keys_and_deleted_teams_tables
-- mode: read
-- returns: rows
-- What to show for ids instead of a bare hash: keys by alias and key_name, users by email, teams and
-- orgs by alias, end users by alias, agents by name. Deleted keys and teams are found in LiteLLM's
-- deleted tables (deleted = true).
SELECT 'key' AS kind, k.token AS id, k.key_alias AS label, k.key_name AS detail, false AS deleted
FROM "LiteLLM_VerificationToken" AS k WHERE k.token = ANY(%(keys)s::text[])
UNION ALL
SELECT DISTINCT ON (dk.token) 'key', dk.token, dk.key_alias, dk.key_name, true
FROM "LiteLLM_DeletedVerificationToken" AS dk
WHERE dk.token = ANY(%(keys)s::text[])
  AND NOT EXISTS (SELECT 1 FROM "LiteLLM_VerificationToken" AS vk WHERE vk.token = dk.token)
UNION ALL
SELECT 'user', u.user_id, u.user_email, u.user_alias, false
FROM "LiteLLM_UserTable" AS u WHERE u.user_id = ANY(%(users)s::text[])
UNION ALL
SELECT 'team', t.team_id, t.team_alias, NULL, false
FROM "LiteLLM_TeamTable" AS t WHERE t.team_id = ANY(%(teams)s::text[])
UNION ALL
SELECT DISTINCT ON (dt.team_id) 'team', dt.team_id, dt.team_alias, NULL, true
FROM "LiteLLM_DeletedTeamTable" AS dt
WHERE dt.team_id = ANY(%(teams)s::text[])
  AND NOT EXISTS (SELECT 1 FROM "LiteLLM_TeamTable" AS vt WHERE vt.team_id = dt.team_id)
UNION ALL
SELECT 'org', o.organization_id, o.organization_alias, NULL, false
FROM "LiteLLM_OrganizationTable" AS o WHERE o.organization_id = ANY(%(orgs)s::text[])
UNION ALL
SELECT 'end_user', e.user_id, e.alias, NULL, false
FROM "LiteLLM_EndUserTable" AS e WHERE e.user_id = ANY(%(end_users)s::text[])
UNION ALL
SELECT 'agent', a.agent_id, a.agent_name, NULL, false
FROM "LiteLLM_AgentsTable" AS a WHERE a.agent_id = ANY(%(agents)s::text[])
